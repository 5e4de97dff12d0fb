"""local/: the local UDP Gateway (gateway/) and the local AWS endpoint with the Proxylity stand-in (cloud/)."""
