"""Network gear of the schools: plans checked before rendering, drift of running configurations."""
