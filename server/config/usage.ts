// The text printed by -h/--help. Same flags as nats-server's usage, described in our own words;
// flags marked "(accepted, not implemented)" parse so scripts keep working but do nothing yet.

import { VERSION } from "../version.js";

export function versionText(): string {
  return `nats-server: v${VERSION}`;
}

export function usageText(): string {
  return `
Usage: nats-server [options]

tsnats: a NATS-compatible server (reports nats-server v${VERSION})

Server:
    -a, --addr, --net <host>         Interface to listen on for clients (default: 0.0.0.0)
    -p, --port <port>                Client port; -1 picks a free port (default: 4222)
    -n, --name, --server_name <name> Server name (default: generated)
    -P, --pid <file>                 Write the process id to this file
    -m, --http_port <port>           Serve monitoring endpoints over HTTP on this port
    -ms, --https_port <port>         HTTPS monitoring port (accepted, not implemented)
    -c, --config <file>              Read options from this configuration file
    -t                               Check the configuration file and exit
        --client_advertise <url>     Client URL advertised to other servers
        --ports_file_dir <dir>       Write nats-server_<pid>.ports with the listen URLs here

Logging:
    -l, --log <file>                 Log to this file instead of stderr
    -T, --logtime[=false]            Prefix log lines with a timestamp (default: true)
    -D, --debug                      Log debug messages
    -V, --trace                      Log the protocol traffic
    -VV                              Verbose trace, including the system account
    -DV                              Debug and trace
    -DVV                             Debug and verbose trace
        --log_json                   Log JSON lines (pino) instead of text
    -s, --syslog                     Log to syslog (accepted, not implemented)
    -r, --remote_syslog <addr>       Remote syslog address (accepted, not implemented)
        --log_size_limit <bytes>     Rotate the log file at this size (accepted, not implemented)
        --max_traced_msg_len <len>   Truncate traced payloads to this length (default: no limit)

JetStream:
    -js, --jetstream                 Enable JetStream
    -sd, --store_dir <dir>           Directory for JetStream data

Authorization:
        --user <user>                Username clients must present
        --pass <password>            Password clients must present
        --auth <token>               Token clients must present

TLS:
        --tls                        Require TLS from clients, without client certificates
        --tlscert <file>             Server certificate
        --tlskey <file>              Server private key
        --tlsverify                  Require and verify client certificates
        --tlscacert <file>           CA certificate used to verify clients

Cluster:
        --cluster, --cluster_listen <url>  Accept routes on this URL (nats://host:port)
        --routes <url,url,...>       Routes to connect to
        --cluster_name <name>        Cluster name
        --cluster_advertise <url>    Route URL advertised to other servers
        --no_advertise               Do not advertise cluster URLs to clients
        --connect_retries <n>        Connect attempts for implicit routes

Other:
        --profile <port>             Profiling port (accepted, not implemented)
    -h, --help                       Print this text
    -v, --version                    Print the version
        --help_tls                   Print this text

Flags take one or two dashes; values follow as "-p 4222" or "-p=4222". Flags override the
configuration file. SIGHUP reloads the configuration file.
`;
}
