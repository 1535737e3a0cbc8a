"""Canada Post: the Web Services tracking-detail resource (XML)."""
