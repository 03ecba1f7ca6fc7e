//! Association configuration: every cap and timer in one place.

use core::time::Duration;

/// Configuration of an [`Association`](crate::Association). Every buffer has a cap here.
#[derive(Debug, Clone)]
pub struct Config {
    /// Local SCTP port (WebRTC uses 5000, RFC 8841).
    pub src_port: u16,
    /// Remote SCTP port.
    pub dst_port: u16,
    /// Largest SCTP packet produced, in octets (default 1191 so that DTLS + UDP + IPv6 fits
    /// a 1280-octet path).
    pub mtu: usize,
    /// Number of outbound and inbound streams requested (OS / MIS, RFC 9260 section 3.3.2).
    pub num_streams: u16,
    /// Receive window advertised at first (a_rwnd of the INIT), in octets.
    pub initial_receive_window: u32,
    /// Cap of the receive window. From `initial_receive_window` the window grows to twice the
    /// octets the peer delivered within one minimum round trip (it follows the
    /// bandwidth-delay product, like TCP receive-buffer auto-tuning), up to this cap; 16 MiB
    /// covers 1 Gbit/s at 100 ms. It is also the cap on octets held for reassembly,
    /// reordering and undelivered events.
    pub max_receive_window: u32,
    /// Cap on octets queued or in flight on the send side; `send` fails beyond it.
    pub max_send_buffer: usize,
    /// Largest user message accepted for sending or reassembly (default 256 KiB, up to 1 GiB).
    /// A peer exceeding it is aborted with "Out of Resource".
    pub max_message_size: usize,
    /// Initial retransmission timeout (RFC 9260 section 6.3.1, RTO.Initial).
    pub rto_initial: Duration,
    /// Lower bound of the RTO (RTO.Min).
    pub rto_min: Duration,
    /// Upper bound of the RTO (RTO.Max).
    pub rto_max: Duration,
    /// INIT / COOKIE ECHO retransmissions before giving up (Max.Init.Retransmits).
    pub max_init_retransmits: u32,
    /// Consecutive timeouts before the association is closed (Association.Max.Retrans).
    pub max_retransmits: u32,
    /// Delayed SACK timer (RFC 9260 section 6.2; at most 500 ms).
    pub delayed_ack: Duration,
    /// Interval of HEARTBEAT on an idle association (`None` disables).
    pub heartbeat_interval: Option<Duration>,
    /// Lifetime of a state cookie (Valid.Cookie.Life).
    pub cookie_lifetime: Duration,
    /// Offer I-DATA (RFC 8260) so that a large message does not block small ones.
    pub enable_idata: bool,
    /// Offer zero checksum (RFC 9653, EDMID "DTLS"); only set this when running over DTLS.
    pub zero_checksum: bool,
    /// Cap on the events queued for `poll_event` (each message event also counts against the
    /// receive window).
    pub max_events: usize,
    /// Initial TSN to use instead of a random one (tests of TSN wraparound).
    pub initial_tsn: Option<u32>,
    /// Seed for the random number generator (tags, initial TSNs, cookie key). `None` seeds
    /// once from the OS in `Association::new`.
    pub seed: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            src_port: 5000,
            dst_port: 5000,
            mtu: 1191,
            num_streams: 65535,
            initial_receive_window: 4 * 1024 * 1024,
            max_receive_window: 16 * 1024 * 1024,
            max_send_buffer: 16 * 1024 * 1024,
            max_message_size: 256 * 1024,
            rto_initial: Duration::from_millis(1000),
            rto_min: Duration::from_millis(200),
            rto_max: Duration::from_secs(10),
            max_init_retransmits: 8,
            max_retransmits: 10,
            delayed_ack: Duration::from_millis(200),
            heartbeat_interval: Some(Duration::from_secs(30)),
            cookie_lifetime: Duration::from_secs(60),
            enable_idata: true,
            zero_checksum: false,
            max_events: 65536,
            initial_tsn: None,
            seed: None,
        }
    }
}
