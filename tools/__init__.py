"""Developer tools: the demo, message catalogs. Not part of a deployed node."""
