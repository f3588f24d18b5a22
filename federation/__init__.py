"""Federation between nodes (see docs/federation.md); joins the app as a built-in plugin."""
