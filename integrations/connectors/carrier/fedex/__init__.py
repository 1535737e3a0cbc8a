"""FedEx: Web Services TrackReply (XML, v7) and the Track API (REST JSON)."""
