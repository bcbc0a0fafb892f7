"""HTTP and WebSocket routes: parse and validate with the protocol Structs, call a service,
encode. Routes reach services through `gateway.services`; nothing below imports a route."""
