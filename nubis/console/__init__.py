"""Remote consoles: the options they share and the websocket proxies (noVNC, serial) browsers connect to."""
