"""Request/reply models of the RPC endpoints (``guichet.rpc.<name>``)."""
