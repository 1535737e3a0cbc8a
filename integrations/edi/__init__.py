"""Electronic data interchange: reading X12 envelopes, whatever their delimiters."""
