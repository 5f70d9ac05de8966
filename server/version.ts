// The nats-server version tsnats reports in INFO and /varz. Clients gate features on it, so it is the
// highest nats-server release whose client-visible features tsnats fully implements.
export const VERSION = "2.9.10";
export const PROTO_VERSION = 1;
