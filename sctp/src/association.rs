//! The SCTP association state machine (RFC 9260), sans-IO.
//!
//! Poll order after any input: drain [`Association::poll_transmit`], then
//! [`Association::poll_event`], then read [`Association::poll_timeout`].

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use ring::hmac;

use crate::config::Config;
use crate::error::Error;
use crate::wire::{self, ct, data_flags};

/// Octets charged against the receive window per stored fragment, on top of its payload, so
/// that a flood of tiny fragments cannot hold more memory than the window says.
const FRAGMENT_OVERHEAD: usize = 128;
/// Largest TSN distance ahead of the cumulative TSN that is accepted (SACK gap offsets are
/// 16-bit, RFC 9260 section 3.3.4).
const MAX_TSN_AHEAD: u64 = 65535;
/// Duplicate TSNs reported per SACK.
const MAX_DUPS: usize = 32;
/// Gap blocks reported per SACK.
const MAX_GAP_BLOCKS: usize = 200;
/// Cap on stored fragments (bounds the CPU of reassembly scans).
const MAX_FRAGMENTS: usize = 32768;
const COOKIE_LEN: usize = 44;
const COOKIE_MAC_LEN: usize = 32;

/// One SCTP packet to hand to the lower layer (DTLS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// The complete SCTP packet.
    pub payload: Bytes,
}

/// Why an association closed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The SHUTDOWN sequence completed.
    Shutdown,
    /// We aborted (API `abort`).
    LocalAbort,
    /// The peer sent ABORT.
    PeerAbort {
        /// First error cause code in the ABORT, if any.
        cause: Option<u16>,
    },
    /// Too many retransmissions (Association.Max.Retrans / Max.Init.Retransmits).
    Timeout,
    /// The peer violated the protocol or exceeded a resource cap; we sent ABORT.
    ProtocolViolation {
        /// What happened.
        what: &'static str,
    },
}

/// Something the application must know about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The association is established.
    Connected,
    /// A complete user message.
    Message {
        /// Stream id.
        stream: u16,
        /// Payload protocol identifier.
        ppid: u32,
        /// Sent unordered.
        unordered: bool,
        /// The message.
        data: Bytes,
    },
    /// Our outgoing streams were reset (RFC 6525 request answered "performed").
    OutgoingStreamsReset {
        /// The streams.
        streams: Vec<u16>,
    },
    /// The peer reset its outgoing streams (our incoming ones).
    IncomingStreamsReset {
        /// The streams.
        streams: Vec<u16>,
    },
    /// The stream's queued amount fell to or below its low threshold.
    BufferedAmountLow {
        /// Stream id.
        stream: u16,
    },
    /// The peer restarted the association (RFC 9260 section 5.2.2, INIT then COOKIE ECHO
    /// with new tags on an established association). Everything queued, in flight or partly
    /// reassembled on the old association was discarded, every stream starts again at
    /// sequence number 0, and congestion control starts again; the association stays
    /// established (data channels must be opened again).
    Restarted,
    /// The association is closed; no more events follow.
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// Options of one message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SendOptions {
    /// Deliver as soon as complete, not in stream order (U bit).
    pub unordered: bool,
    /// PR-SCTP: abandon after this many retransmissions (RFC 3758 "rtx" policy).
    pub max_retransmits: Option<u32>,
    /// PR-SCTP: abandon when not delivered within this time ("ttl" policy).
    pub lifetime: Option<Duration>,
}

/// Counters; a dropped packet is counted here and never changes state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Packets accepted.
    pub packets_received: u64,
    /// Packets produced.
    pub packets_sent: u64,
    /// Packets dropped for a bad CRC32c.
    pub bad_checksum: u64,
    /// Packets dropped for a wrong verification tag.
    pub bad_vtag: u64,
    /// Packets or chunks dropped as malformed.
    pub malformed: u64,
    /// DATA chunks dropped (window full, too far ahead).
    pub data_dropped: u64,
    /// Duplicate DATA chunks received.
    pub duplicates: u64,
    /// DATA chunks retransmitted after T3-rtx.
    pub t3_retransmits: u64,
    /// DATA chunks fast-retransmitted.
    pub fast_retransmits: u64,
    /// T3-rtx expirations.
    pub t3_expirations: u64,
    /// Chunks rejected as unsupported (AUTH, ASCONF, unknown).
    pub unrecognized_chunks: u64,
    /// Cookies rejected (bad MAC or stale).
    pub bad_cookies: u64,
    /// FORWARD-TSN chunks ignored as implausible.
    pub bad_forward_tsn: u64,
    /// Messages abandoned by PR-SCTP on the send side.
    pub abandoned_messages: u64,
    /// Times HyStart++ (RFC 9406) ended the initial slow start on a rising RTT.
    pub hystart_exits: u64,
    /// Times the peer restarted the association (RFC 9260 section 5.2.2).
    pub restarts: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    CookieWait,
    CookieEchoed,
    Established,
    ShutdownPending,
    ShutdownSent,
    ShutdownReceived,
    ShutdownAckSent,
    Dead,
}

#[derive(Debug, Clone, Copy)]
enum Timer {
    T1 = 0,
    T2 = 1,
    T3 = 2,
    DelayedAck = 3,
    Heartbeat = 4,
    Reconfig = 5,
}
const NUM_TIMERS: usize = 6;

/// Hash state for the per-stream and per-message tables: a folded multiply keyed with a
/// random per-association seed. SipHash (std's default) cost about 15 % of the data path;
/// the keys (stream ids, message ids) come from the peer, so the hash stays keyed.
#[derive(Debug, Clone, Copy)]
struct KeyedState(u64);

impl core::hash::BuildHasher for KeyedState {
    type Hasher = KeyedHasher;
    fn build_hasher(&self) -> KeyedHasher {
        KeyedHasher(self.0)
    }
}

#[derive(Debug)]
struct KeyedHasher(u64);

#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let m = u128::from(a) * u128::from(b);
    (m as u64) ^ ((m >> 64) as u64)
}

impl KeyedHasher {
    #[inline]
    fn mix(&mut self, v: u64) {
        self.0 = fold_mul(self.0 ^ v, 0x9e37_79b9_7f4a_7c15);
    }
}

impl core::hash::Hasher for KeyedHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.mix(u64::from(b));
        }
    }
    #[inline]
    fn write_u8(&mut self, v: u8) {
        self.mix(u64::from(v));
    }
    #[inline]
    fn write_u16(&mut self, v: u16) {
        self.mix(u64::from(v));
    }
    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.mix(u64::from(v));
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.mix(v);
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.mix(v as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        fold_mul(self.0, 0xa076_1d64_78bd_642f)
    }
}

type KeyedMap<K, V> = HashMap<K, V, KeyedState>;

/// Size of the blocks that outgoing packets and small received messages are copied into:
/// one allocation serves many packets instead of two allocations per packet. A block stays
/// alive while any packet or message cut from it does, so it is kept small.
const ARENA_BLOCK: usize = 16 * 1024;

/// Copies `data` into the arena block and cuts it off as its own `Bytes`.
#[inline]
fn arena_copy(arena: &mut BytesMut, data: &[u8]) -> Bytes {
    if arena.capacity() - arena.len() < data.len() {
        *arena = BytesMut::with_capacity(ARENA_BLOCK.max(data.len()));
    }
    arena.extend_from_slice(data);
    arena.split().freeze()
}

/// HyStart++ (RFC 9406 section 4.2): RTT samples a round needs before it may end slow start.
const HS_N_RTT_SAMPLE: u32 = 8;
/// RFC 9406 MIN_RTT_THRESH / MAX_RTT_THRESH / MIN_RTT_DIVISOR.
const HS_MIN_RTT_THRESH: Duration = Duration::from_millis(4);
const HS_MAX_RTT_THRESH: Duration = Duration::from_millis(16);
const HS_MIN_RTT_DIVISOR: u32 = 8;

/// Delay-based exit from the initial slow start (RFC 9406). A round is one window of data:
/// it ends when the cumulative TSN passes the highest TSN sent when it started. When the
/// minimum RTT of a round exceeds the previous round's by `clamp(min/8, 4 ms, 16 ms)`, the
/// bottleneck queue is filling: slow start ends with ssthresh = cwnd. (RFC 9406 section 4.3
/// then runs Conservative Slow Start for up to 5 rounds; its growth of 25 % per round
/// overflows a queue of one BDP within 3 rounds, so this implementation goes straight to
/// congestion avoidance, as classic HyStart does.)
#[derive(Debug)]
struct HyStart {
    active: bool,
    round_end: u64,
    last_min: Option<Duration>,
    cur_min: Option<Duration>,
    samples: u32,
}

impl HyStart {
    fn new() -> Self {
        HyStart {
            active: true,
            round_end: 0,
            last_min: None,
            cur_min: None,
            samples: 0,
        }
    }

    /// Feeds one ACK's RTT sample; returns true when slow start must end.
    fn on_ack(&mut self, cum_acked: u64, highest_sent: u64, rtt: Option<Duration>) -> bool {
        if !self.active {
            return false;
        }
        if cum_acked >= self.round_end {
            self.round_end = highest_sent;
            if self.cur_min.is_some() {
                self.last_min = self.cur_min;
            }
            self.cur_min = None;
            self.samples = 0;
        }
        let Some(r) = rtt else {
            return false;
        };
        self.cur_min = Some(self.cur_min.map_or(r, |m| m.min(r)));
        self.samples += 1;
        if self.samples >= HS_N_RTT_SAMPLE
            && let (Some(cur), Some(last)) = (self.cur_min, self.last_min)
        {
            let thresh = (last / HS_MIN_RTT_DIVISOR).clamp(HS_MIN_RTT_THRESH, HS_MAX_RTT_THRESH);
            if cur >= last + thresh {
                self.active = false;
                return true;
            }
        }
        false
    }
}

#[derive(Debug)]
struct Sent {
    stream: u16,
    mid: u32,
    fsn: u32,
    ppid: u32,
    flags: u8,
    data: Bytes,
    sent_at: Instant,
    tx_count: u32,
    acked: bool,
    abandoned: bool,
    in_flight: bool,
    /// Transmission order of the latest (re)transmission: miss indications compare it with
    /// the newest chunk acknowledged, so a lost retransmission is detected too.
    tx_seq: u64,
    miss: u32,
    max_rtx: Option<u32>,
    expires: Option<Instant>,
}

impl Sent {
    fn unordered(&self) -> bool {
        self.flags & data_flags::U != 0
    }
}

#[derive(Debug)]
struct OutMsg {
    ppid: u32,
    data: Bytes,
    offset: usize,
    opts: SendOptions,
    expires: Option<Instant>,
    mid: Option<u32>,
    fsn: u32,
}

#[derive(Debug, Default)]
struct OutStream {
    queue: VecDeque<OutMsg>,
    next_ssn: u32,
    next_umid: u32,
    queued: usize,
    low_threshold: usize,
    in_ready: bool,
}

#[derive(Debug)]
struct Frag {
    stream: u16,
    mid: u32,
    ppid: u32,
    flags: u8,
    data: Bytes,
}

#[derive(Debug, Default)]
struct Partial {
    /// Fragments 0..next_fsn, appended in order (one copy on the common path).
    buf: Vec<u8>,
    next_fsn: u32,
    /// Fragments that arrived ahead of `next_fsn`.
    frags: BTreeMap<u32, Bytes>,
    ppid: u32,
    last: Option<u32>,
    bytes: usize,
}

impl Partial {
    fn count(&self) -> usize {
        self.next_fsn as usize + self.frags.len()
    }
}

#[derive(Debug)]
struct InStream {
    next_ssn: u32,
    pending: KeyedMap<u32, (u32, Bytes)>,
}

#[derive(Debug)]
struct Complete {
    stream: u16,
    unordered: bool,
    mid: u32,
    ppid: u32,
    data: Bytes,
}

#[derive(Debug)]
struct ResetRequest {
    seq: u32,
    last_tsn: u32,
    streams: Vec<u16>,
}

/// Deferred incoming reset (RFC 6525 section 5.2.2: performed when the cumulative TSN reaches
/// the sender's last assigned TSN).
#[derive(Debug)]
struct DeferredReset {
    seq: u32,
    last_tsn: u64,
    streams: Vec<u16>,
}

/// Set of received TSNs above the cumulative TSN, as disjoint inclusive ranges.
#[derive(Debug, Default)]
struct TsnRanges {
    map: BTreeMap<u64, u64>,
}

impl TsnRanges {
    fn contains(&self, t: u64) -> bool {
        self.map
            .range(..=t)
            .next_back()
            .is_some_and(|(_, &e)| t <= e)
    }
    fn insert(&mut self, t: u64) {
        let mut start = t;
        let mut end = t;
        if let Some((&s, &e)) = self.map.range(..=t).next_back() {
            if t <= e {
                return;
            }
            if e + 1 == t {
                start = s;
            }
        }
        if let Some(e2) = self.map.get(&(t + 1)).copied() {
            self.map.remove(&(t + 1));
            end = e2;
        }
        self.map.insert(start, end);
    }
    /// Removes everything <= `cum`; returns the new cumulative TSN after absorbing a range
    /// that starts right after it.
    fn advance(&mut self, mut cum: u64) -> u64 {
        while let Some((&s, &e)) = self.map.first_key_value() {
            if e <= cum {
                self.map.remove(&s);
            } else if s <= cum + 1 {
                self.map.remove(&s);
                cum = e;
            } else {
                break;
            }
        }
        cum
    }
}

/// Extends a 32-bit TSN to 64 bits, choosing the value nearest to `base`.
#[inline]
fn unwrap32(base: u64, v: u32) -> u64 {
    let diff = i64::from(v.wrapping_sub(base as u32) as i32);
    (base as i64).saturating_add(diff).max(0) as u64
}

#[inline]
fn ssn_lt(a: u32, b: u32, idata: bool) -> bool {
    if idata {
        a != b && b.wrapping_sub(a) < 1 << 31
    } else {
        let (a, b) = (a as u16, b as u16);
        a != b && b.wrapping_sub(a) < 1 << 15
    }
}

/// An SCTP association. See the crate docs for the driving loop.
pub struct Association {
    config: Config,
    rng: StdRng,
    state: State,
    now: Instant,
    epoch: Instant,
    cookie_key: hmac::Key,
    local_tag: u32,
    peer_tag: u32,
    local_initial_tsn: u32,
    idata: bool,
    forward_tsn: bool,
    reconfig: bool,
    zero_checksum_tx: bool,
    zero_checksum_rx: bool,
    outbound_streams: u16,
    inbound_streams: u16,
    init_retries: u32,
    handshake_packet: Option<Bytes>,
    cookie_echo: Option<Bytes>,
    timers: [Option<Instant>; NUM_TIMERS],
    error_count: u32,
    // send side
    next_tsn: u64,
    cum_acked: u64,
    advanced_ack: u64,
    inflight: VecDeque<Sent>,
    inflight_bytes: usize,
    rtx: BTreeSet<u64>,
    out_streams: KeyedMap<u16, OutStream>,
    ready: VecDeque<u16>,
    current: Option<u16>,
    queued_total: usize,
    flight_size: usize,
    cwnd: usize,
    ssthresh: usize,
    pba: usize,
    peer_rwnd: usize,
    fast_recovery: Option<u64>,
    fast_rtx_pending: bool,
    hystart: HyStart,
    sack_rtt: Option<Duration>,
    next_tx_seq: u64,
    newest_acked_tx: Option<u64>,
    init_sent_at: Option<Instant>,
    /// Request sequence number of the peer's Incoming SSN Reset Request being answered.
    incoming_reset_seq: Option<u32>,
    /// Smallest RTT seen (handshake, DATA, HEARTBEAT): the receive window is sized from it.
    min_rtt: Option<Duration>,
    srtt: Option<Duration>,
    rttvar: Duration,
    rto: Duration,
    rtt_probe: Option<(u64, Instant)>,
    fwd_pending: bool,
    // receive side
    peer_cum: u64,
    received: TsnRanges,
    dups: Vec<u32>,
    sack_due: bool,
    packets_unacked: u32,
    rwnd: usize,
    rx_buffered: usize,
    rwnd_epoch: Instant,
    rwnd_epoch_bytes: usize,
    data_frags: BTreeMap<u64, Frag>,
    run_cache: Option<(u64, usize)>,
    partials: KeyedMap<(u16, bool, u32), Partial>,
    in_streams: KeyedMap<u16, InStream>,
    hash_state: KeyedState,
    tx_arena: BytesMut,
    rx_arena: BytesMut,
    // control
    ctrl: VecDeque<Vec<u8>>,
    events: VecDeque<Event>,
    heartbeat_outstanding: bool,
    // stream reset
    reset_wanted: BTreeSet<u16>,
    paused: BTreeSet<u16>,
    reset_out: Option<ResetRequest>,
    next_req_seq: u32,
    peer_next_req_seq: u32,
    last_peer_result: u32,
    deferred_reset: Option<DeferredReset>,
    stats: Stats,
}

impl core::fmt::Debug for Association {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Association")
            .field("state", &self.state)
            .field("local_tag", &self.local_tag)
            .field("peer_tag", &self.peer_tag)
            .field("cwnd", &self.cwnd)
            .field("flight_size", &self.flight_size)
            .finish_non_exhaustive()
    }
}

impl Association {
    /// Creates an association in the CLOSED state: it answers an INIT (passive open) and
    /// [`Association::connect`] starts an active open. Both sides may call `connect`
    /// (WebRTC does); the INIT collision is resolved per RFC 9260 section 5.2.
    pub fn new(mut config: Config, now: Instant) -> Self {
        let mut rng = match config.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_os_rng(),
        };
        config.mtu = config.mtu.clamp(256, 65535);
        config.num_streams = config.num_streams.max(1);
        config.max_message_size = config.max_message_size.clamp(1, 1 << 30);
        config.max_receive_window = config.max_receive_window.max(
            u32::try_from(config.max_message_size + config.max_message_size / 4)
                .unwrap_or(u32::MAX),
        );
        config.initial_receive_window = config
            .initial_receive_window
            .clamp(1500, config.max_receive_window);
        config.rto_min = config.rto_min.max(Duration::from_millis(1));
        config.rto_max = config.rto_max.max(config.rto_min);
        let mut key = [0u8; 32];
        rng.fill(&mut key);
        let cookie_key = hmac::Key::new(hmac::HMAC_SHA256, &key);
        let local_tag = rng.random_range(1..=u32::MAX);
        let local_initial_tsn: u32 = config.initial_tsn.unwrap_or_else(|| rng.random());
        let rto = config.rto_initial.clamp(config.rto_min, config.rto_max);
        let rwnd = config.initial_receive_window as usize;
        let mtu = config.mtu;
        let hash_state = KeyedState(rng.random());
        Association {
            rng,
            state: State::Closed,
            now,
            epoch: now,
            cookie_key,
            local_tag,
            peer_tag: 0,
            local_initial_tsn,
            idata: false,
            forward_tsn: false,
            reconfig: false,
            zero_checksum_tx: false,
            zero_checksum_rx: false,
            outbound_streams: 0,
            inbound_streams: 0,
            init_retries: 0,
            handshake_packet: None,
            cookie_echo: None,
            timers: [None; NUM_TIMERS],
            error_count: 0,
            next_tsn: 0,
            cum_acked: 0,
            advanced_ack: 0,
            inflight: VecDeque::new(),
            inflight_bytes: 0,
            rtx: BTreeSet::new(),
            out_streams: HashMap::with_hasher(hash_state),
            ready: VecDeque::new(),
            current: None,
            queued_total: 0,
            flight_size: 0,
            cwnd: (4 * mtu).min((2 * mtu).max(4380)),
            ssthresh: usize::MAX,
            pba: 0,
            peer_rwnd: 0,
            fast_recovery: None,
            fast_rtx_pending: false,
            hystart: HyStart::new(),
            sack_rtt: None,
            next_tx_seq: 0,
            newest_acked_tx: None,
            init_sent_at: None,
            incoming_reset_seq: None,
            min_rtt: None,
            srtt: None,
            rttvar: Duration::ZERO,
            rto,
            rtt_probe: None,
            fwd_pending: false,
            peer_cum: 0,
            received: TsnRanges::default(),
            dups: Vec::new(),
            sack_due: false,
            packets_unacked: 0,
            rwnd,
            rx_buffered: 0,
            rwnd_epoch: now,
            rwnd_epoch_bytes: 0,
            data_frags: BTreeMap::new(),
            run_cache: None,
            partials: HashMap::with_hasher(hash_state),
            in_streams: HashMap::with_hasher(hash_state),
            hash_state,
            tx_arena: BytesMut::new(),
            rx_arena: BytesMut::new(),
            ctrl: VecDeque::new(),
            events: VecDeque::new(),
            heartbeat_outstanding: false,
            reset_wanted: BTreeSet::new(),
            paused: BTreeSet::new(),
            reset_out: None,
            next_req_seq: 0,
            peer_next_req_seq: 0,
            last_peer_result: 0,
            deferred_reset: None,
            stats: Stats::default(),
            config,
        }
    }

    // ---------------------------------------------------------------- getters

    /// True once established (and until the shutdown sequence starts).
    pub fn is_established(&self) -> bool {
        matches!(
            self.state,
            State::Established | State::ShutdownPending | State::ShutdownReceived
        )
    }

    /// True once closed for good.
    pub fn is_closed(&self) -> bool {
        self.state == State::Dead
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The configuration in use (after clamping).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Octets queued for `stream` and not yet sent (the data channel's bufferedAmount).
    pub fn buffered_amount(&self, stream: u16) -> usize {
        self.out_streams.get(&stream).map_or(0, |s| s.queued)
    }

    /// Sets the threshold under which [`Event::BufferedAmountLow`] fires for `stream`.
    pub fn set_buffered_amount_low_threshold(&mut self, stream: u16, threshold: usize) {
        self.out_streams.entry(stream).or_default().low_threshold = threshold;
    }

    /// Octets queued or in flight (counted against `max_send_buffer`).
    pub fn send_buffer_used(&self) -> usize {
        self.queued_total + self.inflight_bytes
    }

    /// Current congestion window (octets).
    pub fn cwnd(&self) -> usize {
        self.cwnd
    }

    /// Current retransmission timeout.
    pub fn rto(&self) -> Duration {
        self.rto
    }

    /// Smoothed RTT, once measured.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    /// Receive window currently advertised (cap grows with use).
    pub fn receive_window(&self) -> usize {
        self.rwnd
    }

    /// Whether I-DATA (RFC 8260) was negotiated.
    pub fn idata_negotiated(&self) -> bool {
        self.idata
    }

    /// Whether zero checksum (RFC 9653) is used for packets we send.
    pub fn zero_checksum_negotiated(&self) -> bool {
        self.zero_checksum_tx
    }

    /// Negotiated number of outbound streams (0 before establishment).
    pub fn outbound_streams(&self) -> u16 {
        self.outbound_streams
    }

    /// Our verification tag (the one the peer must put in its packets).
    pub fn local_tag(&self) -> u32 {
        self.local_tag
    }

    #[doc(hidden)]
    pub fn rx_buffered_for_fuzzing(&self) -> usize {
        self.rx_buffered
    }

    /// Whether nothing is queued or in flight.
    pub fn is_idle(&self) -> bool {
        self.inflight.is_empty() && self.queued_total == 0 && self.ctrl.is_empty()
    }

    // ---------------------------------------------------------------- commands

    /// Starts the active open: sends INIT (RFC 9260 section 5.1).
    pub fn connect(&mut self, now: Instant) -> Result<(), Error> {
        self.now = now;
        if self.state != State::Closed {
            return Err(Error::InvalidState { op: "connect" });
        }
        let pkt = self.build_init_packet();
        self.handshake_packet = Some(pkt);
        self.state = State::CookieWait;
        self.init_retries = 0;
        self.init_sent_at = Some(now);
        self.set_timer(Timer::T1, now + self.rto);
        Ok(())
    }

    /// Queues a user message on `stream` (RFC 9260 section 6.1). Messages larger than the
    /// MTU are fragmented. Fails when the send buffer cap would be exceeded.
    pub fn send(
        &mut self,
        now: Instant,
        stream: u16,
        ppid: u32,
        data: Bytes,
        opts: SendOptions,
    ) -> Result<(), Error> {
        self.now = now;
        if !matches!(
            self.state,
            State::Established | State::CookieWait | State::CookieEchoed
        ) {
            return Err(Error::InvalidState { op: "send" });
        }
        if data.is_empty() {
            return Err(Error::EmptyMessage);
        }
        if data.len() > self.config.max_message_size {
            return Err(Error::MessageTooLarge {
                size: data.len(),
                max: self.config.max_message_size,
            });
        }
        if self.outbound_streams != 0 && stream >= self.outbound_streams {
            return Err(Error::InvalidStream { stream });
        }
        if self.reset_wanted.contains(&stream) {
            return Err(Error::InvalidState {
                op: "send on a stream being reset",
            });
        }
        let used = self.send_buffer_used();
        if used + data.len() > self.config.max_send_buffer {
            return Err(Error::SendBufferFull {
                buffered: used,
                cap: self.config.max_send_buffer,
            });
        }
        let expires = opts.lifetime.map(|l| now + l);
        let len = data.len();
        let s = self.out_streams.entry(stream).or_default();
        s.queue.push_back(OutMsg {
            ppid,
            data,
            offset: 0,
            opts,
            expires,
            mid: None,
            fsn: 0,
        });
        s.queued += len;
        self.queued_total += len;
        if !s.in_ready && !self.paused.contains(&stream) {
            s.in_ready = true;
            self.ready.push_back(stream);
        }
        Ok(())
    }

    /// Requests an outgoing SSN reset of `streams` (RFC 6525 section 5.1.2), e.g. to close a
    /// data channel (RFC 8831 section 6.7). Data already queued is sent first.
    pub fn reset_streams(&mut self, now: Instant, streams: &[u16]) -> Result<(), Error> {
        self.now = now;
        if !self.is_established() {
            return Err(Error::InvalidState {
                op: "reset_streams",
            });
        }
        if !self.reconfig {
            return Err(Error::InvalidState {
                op: "reset_streams without RE-CONFIG support",
            });
        }
        for &s in streams {
            if s >= self.outbound_streams {
                return Err(Error::InvalidStream { stream: s });
            }
        }
        self.reset_wanted.extend(streams.iter().copied());
        Ok(())
    }

    /// Starts the graceful SHUTDOWN sequence (RFC 9260 section 9.2) after queued data is sent.
    pub fn shutdown(&mut self, now: Instant) -> Result<(), Error> {
        self.now = now;
        match self.state {
            State::Established => {
                self.state = State::ShutdownPending;
                self.maybe_progress_shutdown();
                Ok(())
            }
            State::Closed | State::CookieWait | State::CookieEchoed => {
                self.close(CloseReason::Shutdown);
                Ok(())
            }
            _ => Err(Error::InvalidState { op: "shutdown" }),
        }
    }

    /// Sends ABORT with "User-Initiated Abort" and closes at once (RFC 9260 section 9.1).
    pub fn abort(&mut self, now: Instant) {
        self.now = now;
        if self.state == State::Dead {
            return;
        }
        if self.peer_tag != 0 {
            let mut cause = Vec::new();
            wire::emit_param(&mut cause, wire::cause::USER_ABORT, &[]);
            self.send_abort(&cause);
        }
        self.close(CloseReason::LocalAbort);
    }

    // ---------------------------------------------------------------- inputs

    /// Handles one SCTP packet from the lower layer. A bad packet is counted and dropped.
    pub fn handle_receive(&mut self, now: Instant, packet: &[u8]) {
        self.now = now;
        if self.state == State::Dead {
            return;
        }
        if self.process_packet(packet).is_err() {
            self.stats.malformed += 1;
        }
    }

    /// Handles expired timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        for i in 0..NUM_TIMERS {
            let Some(t) = self.timers.get(i).copied().flatten() else {
                continue;
            };
            if t > now {
                continue;
            }
            if let Some(slot) = self.timers.get_mut(i) {
                *slot = None;
            }
            match i {
                0 => self.on_t1(now),
                1 => self.on_t2(now),
                2 => self.on_t3(now),
                3 => self.sack_due = true,
                4 => self.on_heartbeat_timer(now),
                _ => self.on_reconfig_timer(now),
            }
        }
    }

    // ---------------------------------------------------------------- outputs

    /// The next packet to send, if any.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if let Some(p) = self.ctrl_packets_pop() {
            self.stats.packets_sent += 1;
            return Some(Transmit { payload: p });
        }
        if !matches!(
            self.state,
            State::Established
                | State::ShutdownPending
                | State::ShutdownSent
                | State::ShutdownReceived
                | State::ShutdownAckSent
                | State::CookieEchoed
        ) {
            return None;
        }
        if self.state == State::CookieEchoed {
            // Nothing but the COOKIE ECHO itself (queued as a handshake packet) until COOKIE ACK.
            return None;
        }
        self.maybe_send_reset_request();
        let p = self.build_packet()?;
        self.stats.packets_sent += 1;
        Some(Transmit { payload: p })
    }

    /// The next event, if any.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        let e = self.events.pop_front()?;
        if let Event::Message { data, .. } = &e {
            self.rx_buffered = self.rx_buffered.saturating_sub(data.len());
        }
        Some(e)
    }

    /// The earliest timer deadline, if any.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.iter().flatten().min().copied()
    }

    // ================================================================ internals

    fn set_timer(&mut self, t: Timer, at: Instant) {
        if let Some(s) = self.timers.get_mut(t as usize) {
            *s = Some(at);
        }
    }
    fn stop_timer(&mut self, t: Timer) {
        if let Some(s) = self.timers.get_mut(t as usize) {
            *s = None;
        }
    }
    fn timer(&self, t: Timer) -> Option<Instant> {
        self.timers.get(t as usize).copied().flatten()
    }

    fn close(&mut self, reason: CloseReason) {
        if self.state == State::Dead {
            return;
        }
        self.state = State::Dead;
        self.timers = [None; NUM_TIMERS];
        self.inflight.clear();
        self.rtx.clear();
        self.out_streams.clear();
        self.ready.clear();
        self.data_frags.clear();
        self.partials.clear();
        self.in_streams.clear();
        self.queued_total = 0;
        self.inflight_bytes = 0;
        self.ctrl.retain(|c| c.first() == Some(&1));
        self.events.push_back(Event::Closed { reason });
    }

    fn protocol_violation(&mut self, what: &'static str, cause_code: u16) {
        let mut cause = Vec::new();
        wire::emit_param(&mut cause, cause_code, what.as_bytes());
        self.send_abort(&cause);
        self.close(CloseReason::ProtocolViolation { what });
    }

    fn send_abort(&mut self, causes: &[u8]) {
        let mut p = Vec::with_capacity(16 + causes.len());
        wire::emit_common_header(
            &mut p,
            self.config.src_port,
            self.config.dst_port,
            self.peer_tag,
        );
        wire::emit_chunk(&mut p, ct::ABORT, 0, causes);
        wire::finish_packet(&mut p, false);
        self.pending_packets_push(Bytes::from(p));
    }

    // Complete packets (handshake, ABORT) are kept in `ctrl` tagged by a leading marker so
    // they keep their order with respect to chunk-level control.
    fn pending_packets_push(&mut self, p: Bytes) {
        let mut v = Vec::with_capacity(p.len() + 1);
        v.push(1u8);
        v.extend_from_slice(&p);
        self.ctrl.push_back(v);
    }

    fn push_ctrl_chunk(&mut self, chunk: Vec<u8>) {
        let mut v = Vec::with_capacity(chunk.len() + 1);
        v.push(0u8);
        v.extend_from_slice(&chunk);
        // Control is bounded: a peer can make us answer at most a few chunks per packet it
        // sends, and we never queue more than this many.
        if self.ctrl.len() < 1024 {
            self.ctrl.push_back(v);
        }
    }

    fn ctrl_packets_pop(&mut self) -> Option<Bytes> {
        if let Some(p) = self.handshake_packet.take() {
            return Some(p);
        }
        if self.ctrl.front().and_then(|c| c.first()) == Some(&1) {
            let v = self.ctrl.pop_front()?;
            return Some(Bytes::from(v).slice(1..));
        }
        None
    }

    fn build_init_packet(&mut self) -> Bytes {
        let init = wire::Init {
            init_tag: self.local_tag,
            a_rwnd: self.rwnd as u32,
            os: self.config.num_streams,
            mis: self.config.num_streams,
            initial_tsn: self.local_initial_tsn,
            forward_tsn: true,
            reconfig: true,
            idata: self.config.enable_idata,
            zero_checksum: self.config.zero_checksum.then_some(wire::EDMID_DTLS),
            cookie: None,
        };
        let mut v = Vec::with_capacity(64);
        init.emit_value(&mut v);
        let mut p = Vec::with_capacity(96);
        wire::emit_common_header(&mut p, self.config.src_port, self.config.dst_port, 0);
        wire::emit_chunk(&mut p, ct::INIT, 0, &v);
        wire::finish_packet(&mut p, false);
        Bytes::from(p)
    }

    fn process_packet(&mut self, buf: &[u8]) -> Result<(), Error> {
        let pkt = wire::Packet::parse(buf)?;
        let allow_zero = self.zero_checksum_rx && self.peer_tag != 0;
        if let Err(e) = pkt.verify_checksum(buf, allow_zero) {
            self.stats.bad_checksum += 1;
            return Err(e);
        }
        let vtag = pkt.header.vtag;
        // First pass: validate framing and find chunk types that change vtag rules.
        let mut has_init = false;
        let mut n = 0usize;
        for c in pkt.chunks() {
            let c = c?;
            n += 1;
            if c.typ == ct::INIT {
                has_init = true;
            }
        }
        if n == 0 {
            return Err(Error::Truncated {
                what: "SCTP packet without chunks",
                need: 16,
                have: buf.len(),
            });
        }
        if has_init {
            // RFC 9260 section 6.10: INIT must be alone in its packet, with vtag 0.
            if n != 1 || vtag != 0 {
                self.stats.bad_vtag += 1;
                return Err(Error::BadVerificationTag {
                    received: vtag,
                    expected: 0,
                });
            }
        }
        self.stats.packets_received += 1;
        let mut had_data = false;
        let mut immediate = false;
        for c in pkt.chunks() {
            let c = c?;
            if self.state == State::Dead {
                break;
            }
            // Verification tag rules, RFC 9260 section 8.5 / 8.5.1.
            let tag_ok = match c.typ {
                ct::INIT => true,
                ct::COOKIE_ECHO => true, // checked against the cookie
                ct::ABORT | ct::SHUTDOWN_COMPLETE => {
                    if c.flags & 1 != 0 {
                        vtag == self.peer_tag && self.peer_tag != 0
                    } else {
                        vtag == self.local_tag
                    }
                }
                _ => vtag == self.local_tag,
            };
            if !tag_ok {
                self.stats.bad_vtag += 1;
                return Err(Error::BadVerificationTag {
                    received: vtag,
                    expected: self.local_tag,
                });
            }
            match c.typ {
                ct::DATA | ct::IDATA => {
                    let d = wire::DataChunk::parse(&c)?;
                    if (c.typ == ct::IDATA) != self.idata || !self.can_receive_data() {
                        self.stats.malformed += 1;
                        continue;
                    }
                    had_data = true;
                    immediate |= d.immediate;
                    self.on_data(&d);
                }
                ct::INIT => self.on_init(c.value)?,
                ct::INIT_ACK => self.on_init_ack(c.value)?,
                ct::COOKIE_ECHO => self.on_cookie_echo(c.value, vtag)?,
                ct::COOKIE_ACK => self.on_cookie_ack(),
                ct::SACK => {
                    let s = wire::Sack::parse(c.value)?;
                    self.on_sack(&s);
                }
                ct::HEARTBEAT => {
                    if self.peer_tag != 0 {
                        let mut v = Vec::with_capacity(c.value.len() + 4);
                        wire::emit_chunk(&mut v, ct::HEARTBEAT_ACK, 0, c.value);
                        self.push_ctrl_chunk(v);
                    }
                }
                ct::HEARTBEAT_ACK => self.on_heartbeat_ack(c.value),
                ct::ABORT => {
                    let cause = wire::ParamIter::new(c.value)
                        .next()
                        .and_then(|p| p.ok())
                        .map(|p| p.typ);
                    self.close(CloseReason::PeerAbort { cause });
                }
                ct::SHUTDOWN => self.on_shutdown(c.value)?,
                ct::SHUTDOWN_ACK => self.on_shutdown_ack(),
                ct::SHUTDOWN_COMPLETE => {
                    if self.state == State::ShutdownAckSent {
                        self.close(CloseReason::Shutdown);
                    }
                }
                ct::ERROR => {}
                ct::FORWARD_TSN | ct::IFORWARD_TSN => {
                    let idata = c.typ == ct::IFORWARD_TSN;
                    let f = wire::ForwardTsn::parse(c.value, idata)?;
                    if idata == self.idata && self.forward_tsn && self.can_receive_data() {
                        self.on_forward_tsn(&f);
                    } else {
                        self.stats.bad_forward_tsn += 1;
                    }
                }
                ct::RECONFIG => {
                    if self.reconfig && self.is_established_any() {
                        self.on_reconfig(c.value);
                    }
                }
                ct::PAD => {}
                other => {
                    // RFC 9260 section 3.2: the two high bits say what to do. AUTH (15) and
                    // ASCONF (0xC1) / ASCONF-ACK (0x80) land here: we do not support them.
                    self.stats.unrecognized_chunks += 1;
                    let action = other >> 6;
                    if action & 1 == 1 && self.peer_tag != 0 {
                        let mut cause_val = Vec::with_capacity(c.value.len() + 4);
                        wire::emit_chunk(&mut cause_val, c.typ, c.flags, c.value);
                        let mut cause = Vec::new();
                        wire::emit_param(&mut cause, wire::cause::UNRECOGNIZED_CHUNK, &cause_val);
                        let mut ch = Vec::new();
                        wire::emit_chunk(&mut ch, ct::ERROR, 0, &cause);
                        if ch.len() + 16 <= self.config.mtu {
                            self.push_ctrl_chunk(ch);
                        }
                    }
                    if action & 2 == 0 {
                        break;
                    }
                }
            }
        }
        if had_data {
            let dup = !self.dups.is_empty();
            self.after_data(immediate);
            if dup && self.can_receive_data() {
                // Duplicates mean our SACKs are being lost: answer this packet with its own
                // SACK packet rather than one SACK per burst (RFC 9260 section 6.2).
                let mut p = Vec::with_capacity(64);
                wire::emit_common_header(
                    &mut p,
                    self.config.src_port,
                    self.config.dst_port,
                    self.peer_tag,
                );
                self.emit_sack(&mut p);
                wire::finish_packet(&mut p, self.zero_checksum_tx);
                self.pending_packets_push(Bytes::from(p));
            }
        }
        Ok(())
    }

    fn is_established_any(&self) -> bool {
        matches!(
            self.state,
            State::Established
                | State::ShutdownPending
                | State::ShutdownSent
                | State::ShutdownReceived
        )
    }

    fn can_receive_data(&self) -> bool {
        matches!(
            self.state,
            State::Established | State::ShutdownPending | State::ShutdownSent
        )
    }

    // ---------------------------------------------------------------- handshake

    fn negotiate(&mut self, peer: &wire::Init<'_>) {
        self.forward_tsn = peer.forward_tsn;
        self.reconfig = peer.reconfig;
        self.idata = peer.idata && self.config.enable_idata;
        self.zero_checksum_tx =
            self.config.zero_checksum && peer.zero_checksum == Some(wire::EDMID_DTLS);
        self.zero_checksum_rx = self.zero_checksum_tx;
    }

    fn on_init(&mut self, v: &[u8]) -> Result<(), Error> {
        let init = wire::Init::parse(v)?;
        let (tag, tsn) = match self.state {
            // No state is created before COOKIE ECHO (RFC 9260 section 5.1.3): fresh values
            // go into the cookie only.
            State::Closed => {
                let tsn = self
                    .config
                    .initial_tsn
                    .unwrap_or_else(|| self.rng.random::<u32>());
                (self.rng.random_range(1..=u32::MAX), tsn)
            }
            // INIT collision (section 5.2.1): answer with the parameters of our own INIT.
            State::CookieWait | State::CookieEchoed => (self.local_tag, self.local_initial_tsn),
            State::Dead => return Ok(()),
            // Restart (section 5.2.2): a new tag and TSN, different from the current ones; the
            // tie-tags in the cookie tie the answer to this association. No state changes
            // until a valid COOKIE ECHO comes back.
            _ => {
                let mut tag = self.rng.random_range(1..=u32::MAX);
                while tag == self.local_tag {
                    tag = self.rng.random_range(1..=u32::MAX);
                }
                (tag, self.rng.random::<u32>())
            }
        };
        let (tie_local, tie_peer) = if self.is_established_any() || self.peer_tag != 0 {
            (self.local_tag, self.peer_tag)
        } else {
            (0, 0)
        };
        let os = self.config.num_streams.min(init.mis);
        let mis = self.config.num_streams.min(init.os);
        let zc = self.config.zero_checksum && init.zero_checksum == Some(wire::EDMID_DTLS);
        let flags = u8::from(init.forward_tsn)
            | u8::from(init.reconfig) << 1
            | u8::from(init.idata && self.config.enable_idata) << 2
            | u8::from(zc) << 3;
        let mut cookie = Vec::with_capacity(COOKIE_LEN + COOKIE_MAC_LEN);
        cookie.push(1u8);
        cookie.extend_from_slice(&init.init_tag.to_be_bytes());
        cookie.extend_from_slice(&tag.to_be_bytes());
        cookie.extend_from_slice(&init.initial_tsn.to_be_bytes());
        cookie.extend_from_slice(&tsn.to_be_bytes());
        cookie.extend_from_slice(&init.a_rwnd.to_be_bytes());
        cookie.extend_from_slice(&os.to_be_bytes());
        cookie.extend_from_slice(&mis.to_be_bytes());
        cookie.push(flags);
        let age_ms = self.now.saturating_duration_since(self.epoch).as_millis() as u64;
        cookie.extend_from_slice(&age_ms.to_be_bytes());
        cookie.extend_from_slice(&tie_local.to_be_bytes());
        cookie.extend_from_slice(&tie_peer.to_be_bytes());
        cookie.extend_from_slice(&[0u8; 2]);
        let mac = hmac::sign(&self.cookie_key, &cookie);
        cookie.extend_from_slice(mac.as_ref());
        let ack = wire::Init {
            init_tag: tag,
            a_rwnd: self.rwnd as u32,
            os: self.config.num_streams,
            mis: self.config.num_streams,
            initial_tsn: tsn,
            forward_tsn: true,
            reconfig: true,
            idata: self.config.enable_idata,
            zero_checksum: self.config.zero_checksum.then_some(wire::EDMID_DTLS),
            cookie: Some(&cookie),
        };
        let mut val = Vec::with_capacity(128);
        ack.emit_value(&mut val);
        let mut p = Vec::with_capacity(160);
        wire::emit_common_header(
            &mut p,
            self.config.src_port,
            self.config.dst_port,
            init.init_tag,
        );
        wire::emit_chunk(&mut p, ct::INIT_ACK, 0, &val);
        wire::finish_packet(&mut p, false);
        self.pending_packets_push(Bytes::from(p));
        Ok(())
    }

    fn on_init_ack(&mut self, v: &[u8]) -> Result<(), Error> {
        if self.state != State::CookieWait {
            return Ok(());
        }
        let ack = wire::Init::parse(v)?;
        // INIT -> INIT ACK is one round trip (Karn: only when the INIT was not retransmitted).
        if let Some(at) = self.init_sent_at.take()
            && self.init_retries == 0
        {
            self.note_min_rtt(self.now.saturating_duration_since(at));
        }
        let Some(cookie) = ack.cookie else {
            return Err(Error::InvalidField {
                field: "INIT ACK without state cookie",
                value: 0,
            });
        };
        if cookie.len() > 1024 {
            return Err(Error::InvalidField {
                field: "state cookie length",
                value: cookie.len() as u64,
            });
        }
        self.peer_tag = ack.init_tag;
        self.negotiate(&ack);
        self.setup_tsns(
            ack.initial_tsn,
            ack.a_rwnd,
            self.config.num_streams.min(ack.mis),
            self.config.num_streams.min(ack.os),
        );
        let mut p = Vec::with_capacity(cookie.len() + 20);
        wire::emit_common_header(
            &mut p,
            self.config.src_port,
            self.config.dst_port,
            self.peer_tag,
        );
        wire::emit_chunk(&mut p, ct::COOKIE_ECHO, 0, cookie);
        wire::finish_packet(&mut p, false);
        let pkt = Bytes::from(p);
        self.handshake_packet = Some(pkt.clone());
        self.cookie_echo = Some(pkt);
        self.state = State::CookieEchoed;
        self.init_retries = 0;
        self.set_timer(Timer::T1, self.now + self.rto);
        Ok(())
    }

    fn setup_tsns(&mut self, peer_initial_tsn: u32, peer_rwnd: u32, os: u16, mis: u16) {
        let base = 1u64 << 32;
        self.next_tsn = base | u64::from(self.local_initial_tsn);
        self.cum_acked = self.next_tsn - 1;
        self.advanced_ack = self.cum_acked;
        self.peer_cum = (base | u64::from(peer_initial_tsn)) - 1;
        self.peer_rwnd = peer_rwnd as usize;
        // Slow start threshold seeded from the peer's a_rwnd (RFC 9260 section 7.2.1).
        self.ssthresh = (peer_rwnd as usize).max(4 * self.config.mtu);
        self.outbound_streams = os.max(1);
        self.inbound_streams = mis.max(1);
    }

    fn on_cookie_echo(&mut self, v: &[u8], vtag: u32) -> Result<(), Error> {
        let (Some(body), Some(mac)) = (v.get(..COOKIE_LEN), v.get(COOKIE_LEN..)) else {
            self.stats.bad_cookies += 1;
            return Err(Error::Truncated {
                what: "state cookie",
                need: COOKIE_LEN + COOKIE_MAC_LEN,
                have: v.len(),
            });
        };
        if hmac::verify(&self.cookie_key, body, mac).is_err() {
            self.stats.bad_cookies += 1;
            return Err(Error::InvalidField {
                field: "state cookie MAC",
                value: 0,
            });
        }
        let g32 = |o| wire::be32(body, o).unwrap_or(0);
        let g16 = |o| wire::be16(body, o).unwrap_or(0);
        let peer_tag = g32(1);
        let my_tag = g32(5);
        let peer_tsn = g32(9);
        let my_tsn = g32(13);
        let peer_rwnd = g32(17);
        let os = g16(21);
        let mis = g16(23);
        let flags = body.get(25).copied().unwrap_or(0);
        let created = u64::from(g32(26)) << 32 | u64::from(g32(30));
        let tie_local = g32(34);
        let tie_peer = g32(38);
        if vtag != my_tag {
            self.stats.bad_vtag += 1;
            return Err(Error::BadVerificationTag {
                received: vtag,
                expected: my_tag,
            });
        }
        let age = self.now.saturating_duration_since(self.epoch).as_millis() as u64;
        if age.saturating_sub(created) > self.config.cookie_lifetime.as_millis() as u64 {
            self.stats.bad_cookies += 1;
            // RFC 9260 section 5.2.6: report a Stale Cookie Error.
            let stale_us = (age.saturating_sub(created)).saturating_mul(1000) as u32;
            let mut cause = Vec::new();
            wire::emit_param(
                &mut cause,
                wire::cause::STALE_COOKIE,
                &stale_us.to_be_bytes(),
            );
            let mut p = Vec::new();
            wire::emit_common_header(&mut p, self.config.src_port, self.config.dst_port, peer_tag);
            wire::emit_chunk(&mut p, ct::ERROR, 0, &cause);
            wire::finish_packet(&mut p, false);
            self.pending_packets_push(Bytes::from(p));
            return Ok(());
        }
        match self.state {
            State::Closed => {
                self.local_tag = my_tag;
                self.local_initial_tsn = my_tsn;
            }
            State::CookieWait | State::CookieEchoed => {
                // Collision (RFC 9260 section 5.2.4 case D): the cookie must carry our tag.
                if my_tag != self.local_tag {
                    return Ok(());
                }
            }
            _ => {
                // Duplicate COOKIE ECHO for this association (section 5.2.4 case D):
                // re-acknowledge.
                if my_tag == self.local_tag && peer_tag == self.peer_tag {
                    let mut ch = Vec::new();
                    wire::emit_chunk(&mut ch, ct::COOKIE_ACK, 0, &[]);
                    self.push_ctrl_chunk(ch);
                    return Ok(());
                }
                // Case A: both tags new, tie-tags naming this association: the peer restarted.
                // Anything else (a cookie from before an earlier restart, tags half matching)
                // is silently discarded.
                let restart = my_tag != self.local_tag
                    && peer_tag != self.peer_tag
                    && tie_local == self.local_tag
                    && tie_peer == self.peer_tag
                    && tie_local != 0;
                if !restart {
                    self.stats.bad_cookies += 1;
                    return Ok(());
                }
                if self.state == State::ShutdownAckSent {
                    // Section 5.2.4 action A: no new association while shutting down.
                    self.send_shutdown_ack();
                    let mut cause = Vec::new();
                    wire::emit_param(&mut cause, wire::cause::COOKIE_WHILE_SHUTTING_DOWN, &[]);
                    let mut ch = Vec::new();
                    wire::emit_chunk(&mut ch, ct::ERROR, 0, &cause);
                    self.push_ctrl_chunk(ch);
                    return Ok(());
                }
                self.reset_for_restart();
                self.local_tag = my_tag;
                self.local_initial_tsn = my_tsn;
            }
        }
        let restarted = self.is_established_any();
        let was_echoed = self.state == State::CookieEchoed;
        self.peer_tag = peer_tag;
        self.forward_tsn = flags & 1 != 0;
        self.reconfig = flags & 2 != 0;
        self.idata = flags & 4 != 0;
        self.zero_checksum_tx = flags & 8 != 0;
        self.zero_checksum_rx = self.zero_checksum_tx;
        if !was_echoed {
            self.setup_tsns(peer_tsn, peer_rwnd, os, mis);
            // INIT ACK -> COOKIE ECHO took one round trip: the passive side's first path RTT.
            let ms = age.saturating_sub(created);
            if ms > 0 && ms < 60_000 {
                self.note_min_rtt(Duration::from_millis(ms));
            }
        }
        self.handshake_packet = None;
        self.cookie_echo = None;
        self.stop_timer(Timer::T1);
        let mut ch = Vec::new();
        wire::emit_chunk(&mut ch, ct::COOKIE_ACK, 0, &[]);
        self.push_ctrl_chunk(ch);
        if restarted {
            self.state = State::Closed;
            self.established();
            // `established` queued Connected; the application is told Restarted instead.
            if let Some(e) = self.events.back_mut() {
                *e = Event::Restarted;
            }
        } else {
            self.established();
        }
        Ok(())
    }

    /// Section 5.2.4 action A: the old association is dropped as if aborted (queued, in-flight
    /// and partly reassembled data discarded, stream sequence numbers back to 0, congestion
    /// control back to its initial values) but without the "communication lost" event. What
    /// was kept: the cookie secret and RNG, statistics, the path's minimum RTT, and events
    /// the application has not taken yet.
    fn reset_for_restart(&mut self) {
        let mut fresh = Association::new(self.config.clone(), self.now);
        core::mem::swap(&mut fresh.rng, &mut self.rng);
        fresh.cookie_key = self.cookie_key.clone();
        fresh.epoch = self.epoch;
        fresh.min_rtt = self.min_rtt;
        fresh.stats = core::mem::take(&mut self.stats);
        fresh.events = core::mem::take(&mut self.events);
        fresh.rx_buffered = fresh
            .events
            .iter()
            .map(|e| match e {
                Event::Message { data, .. } => data.len(),
                _ => 0,
            })
            .sum();
        fresh.stats.restarts += 1;
        *self = fresh;
        // The restarted association is established at once (no T1, no handshake packet).
        self.state = State::Established;
    }

    fn on_cookie_ack(&mut self) {
        if self.state == State::CookieEchoed {
            self.handshake_packet = None;
            self.cookie_echo = None;
            self.stop_timer(Timer::T1);
            self.established();
        }
    }

    fn established(&mut self) {
        self.state = State::Established;
        self.error_count = 0;
        // Messages queued before establishment may name streams beyond the negotiated count.
        let os = self.outbound_streams;
        let bad: Vec<u16> = self
            .out_streams
            .keys()
            .copied()
            .filter(|&s| s >= os)
            .collect();
        for s in bad {
            if let Some(st) = self.out_streams.remove(&s) {
                self.queued_total = self.queued_total.saturating_sub(st.queued);
            }
        }
        self.ready.retain(|s| *s < os);
        self.events.push_back(Event::Connected);
        self.arm_heartbeat();
    }

    fn arm_heartbeat(&mut self) {
        if let Some(i) = self.config.heartbeat_interval {
            self.set_timer(Timer::Heartbeat, self.now + i + self.rto);
        }
    }

    fn on_t1(&mut self, now: Instant) {
        self.init_retries += 1;
        if self.init_retries > self.config.max_init_retransmits {
            self.close(CloseReason::Timeout);
            return;
        }
        self.rto = (self.rto * 2).min(self.config.rto_max);
        match self.state {
            State::CookieWait => {
                self.handshake_packet = Some(self.build_init_packet());
            }
            State::CookieEchoed => {
                self.handshake_packet = self.cookie_echo.clone();
            }
            _ => return,
        }
        self.set_timer(Timer::T1, now + self.rto);
    }

    // ---------------------------------------------------------------- shutdown

    fn on_shutdown(&mut self, v: &[u8]) -> Result<(), Error> {
        let cum = wire::be32(v, 0).ok_or(Error::Truncated {
            what: "SHUTDOWN",
            need: 4,
            have: v.len(),
        })?;
        if !matches!(
            self.state,
            State::Established
                | State::ShutdownPending
                | State::ShutdownSent
                | State::ShutdownReceived
        ) {
            return Ok(());
        }
        self.process_cum_ack(cum);
        if self.state == State::ShutdownSent {
            // Simultaneous shutdown (RFC 9260 section 9.2): answer SHUTDOWN ACK.
            self.send_shutdown_ack();
            return Ok(());
        }
        self.state = State::ShutdownReceived;
        self.maybe_progress_shutdown();
        Ok(())
    }

    fn send_shutdown_ack(&mut self) {
        let mut ch = Vec::new();
        wire::emit_chunk(&mut ch, ct::SHUTDOWN_ACK, 0, &[]);
        self.push_ctrl_chunk(ch);
        self.state = State::ShutdownAckSent;
        self.set_timer(Timer::T2, self.now + self.rto);
        self.stop_timer(Timer::T3);
    }

    fn on_shutdown_ack(&mut self) {
        if matches!(self.state, State::ShutdownSent | State::ShutdownAckSent) {
            let mut p = Vec::new();
            wire::emit_common_header(
                &mut p,
                self.config.src_port,
                self.config.dst_port,
                self.peer_tag,
            );
            wire::emit_chunk(&mut p, ct::SHUTDOWN_COMPLETE, 0, &[]);
            wire::finish_packet(&mut p, false);
            self.pending_packets_push(Bytes::from(p));
            self.close(CloseReason::Shutdown);
        }
    }

    fn maybe_progress_shutdown(&mut self) {
        if !self.inflight.is_empty() || self.queued_total != 0 {
            return;
        }
        match self.state {
            State::ShutdownPending => {
                self.send_shutdown();
                self.state = State::ShutdownSent;
                self.set_timer(Timer::T2, self.now + self.rto);
            }
            State::ShutdownReceived => self.send_shutdown_ack(),
            _ => {}
        }
    }

    fn send_shutdown(&mut self) {
        let mut ch = Vec::new();
        wire::emit_chunk(
            &mut ch,
            ct::SHUTDOWN,
            0,
            &(self.peer_cum as u32).to_be_bytes(),
        );
        self.push_ctrl_chunk(ch);
    }

    fn on_t2(&mut self, now: Instant) {
        self.error_count += 1;
        if self.error_count > self.config.max_retransmits {
            self.close(CloseReason::Timeout);
            return;
        }
        self.rto = (self.rto * 2).min(self.config.rto_max);
        match self.state {
            State::ShutdownSent => self.send_shutdown(),
            State::ShutdownAckSent => {
                let mut ch = Vec::new();
                wire::emit_chunk(&mut ch, ct::SHUTDOWN_ACK, 0, &[]);
                self.push_ctrl_chunk(ch);
            }
            _ => return,
        }
        self.set_timer(Timer::T2, now + self.rto);
    }

    // ---------------------------------------------------------------- heartbeat

    fn on_heartbeat_timer(&mut self, now: Instant) {
        if !self.is_established_any() {
            return;
        }
        if self.heartbeat_outstanding {
            self.error_count += 1;
            if self.error_count > self.config.max_retransmits {
                self.close(CloseReason::Timeout);
                return;
            }
        }
        let t = now.saturating_duration_since(self.epoch).as_micros() as u64;
        let mut info = Vec::new();
        wire::emit_param(&mut info, wire::pt::HEARTBEAT_INFO, &t.to_be_bytes());
        let mut ch = Vec::new();
        wire::emit_chunk(&mut ch, ct::HEARTBEAT, 0, &info);
        self.push_ctrl_chunk(ch);
        self.heartbeat_outstanding = true;
        self.arm_heartbeat();
    }

    fn on_heartbeat_ack(&mut self, v: &[u8]) {
        let Some(Ok(p)) = wire::ParamIter::new(v).next() else {
            return;
        };
        let Some(hi) = wire::be32(p.value, 0) else {
            return;
        };
        let Some(lo) = wire::be32(p.value, 4) else {
            return;
        };
        let sent = u64::from(hi) << 32 | u64::from(lo);
        let now_us = self.now.saturating_duration_since(self.epoch).as_micros() as u64;
        if self.heartbeat_outstanding && sent <= now_us {
            self.heartbeat_outstanding = false;
            self.error_count = 0;
            self.rtt_sample(Duration::from_micros(now_us - sent));
        }
    }

    // ---------------------------------------------------------------- RTO

    fn note_min_rtt(&mut self, r: Duration) {
        if !r.is_zero() {
            self.min_rtt = Some(self.min_rtt.map_or(r, |m| m.min(r)));
        }
    }

    /// RFC 9260 section 6.3.1.
    fn rtt_sample(&mut self, r: Duration) {
        self.note_min_rtt(r);
        match self.srtt {
            None => {
                self.srtt = Some(r);
                self.rttvar = r / 2;
            }
            Some(s) => {
                let diff = s.abs_diff(r);
                self.rttvar = self.rttvar * 3 / 4 + diff / 4;
                self.srtt = Some(s * 7 / 8 + r / 8);
            }
        }
        let g = Duration::from_millis(1);
        let rto = self.srtt.unwrap_or(r) + (4 * self.rttvar).max(g);
        self.rto = rto.clamp(self.config.rto_min, self.config.rto_max);
    }

    // ---------------------------------------------------------------- receive data

    fn on_data(&mut self, d: &wire::DataChunk<'_>) {
        let tsn = unwrap32(self.peer_cum, d.tsn);
        if tsn <= self.peer_cum || self.received.contains(tsn) {
            self.stats.duplicates += 1;
            if self.dups.len() < MAX_DUPS {
                self.dups.push(d.tsn);
            }
            self.sack_due = true;
            return;
        }
        if tsn - self.peer_cum > MAX_TSN_AHEAD {
            self.stats.data_dropped += 1;
            return;
        }
        let charge = d.payload.len() + FRAGMENT_OVERHEAD;
        let next = tsn == self.peer_cum + 1;
        let cap = self.config.max_receive_window as usize;
        // Out-of-order data must fit the advertised window; the next expected TSN gets slack so
        // that the window can always reopen (RFC 9260 section 6.2 zero-window probes).
        let over = if next {
            self.rx_buffered + charge > cap * 2
        } else {
            self.rx_buffered + charge > self.rwnd
        };
        if over || self.data_frags.len() >= MAX_FRAGMENTS {
            self.stats.data_dropped += 1;
            return;
        }
        if d.stream >= self.inbound_streams {
            // RFC 9260 section 6.5: acknowledge, discard, report Invalid Stream Identifier.
            let mut val = Vec::with_capacity(4);
            val.extend_from_slice(&d.stream.to_be_bytes());
            val.extend_from_slice(&[0, 0]);
            let mut cause = Vec::new();
            wire::emit_param(&mut cause, wire::cause::INVALID_STREAM, &val);
            let mut ch = Vec::new();
            wire::emit_chunk(&mut ch, ct::ERROR, 0, &cause);
            self.push_ctrl_chunk(ch);
            self.mark_received(tsn);
            return;
        }
        self.mark_received(tsn);
        self.rwnd_epoch_bytes += d.payload.len();
        let mut flags = 0;
        if d.unordered {
            flags |= data_flags::U;
        }
        if d.begin {
            flags |= data_flags::B;
        }
        if d.end {
            flags |= data_flags::E;
        }
        if d.begin && d.end {
            // Only a message delivered at once shares an arena block (then its bytes are
            // counted in the receive window until the application takes the event); one
            // that waits for an earlier SSN gets its own allocation, so a peer cannot pin
            // blocks with held-back messages.
            let at_once = d.unordered || self.is_next_ssn(d.stream, d.mid);
            let data = if at_once {
                arena_copy(&mut self.rx_arena, d.payload)
            } else {
                Bytes::copy_from_slice(d.payload)
            };
            self.deliver_complete(Complete {
                stream: d.stream,
                unordered: d.unordered,
                mid: d.mid,
                ppid: d.ppid,
                data,
            });
        } else if self.idata {
            self.insert_idata_fragment(d);
        } else {
            let data = Bytes::copy_from_slice(d.payload);
            self.rx_buffered += charge;
            self.data_frags.insert(
                tsn,
                Frag {
                    stream: d.stream,
                    mid: d.mid,
                    ppid: d.ppid,
                    flags,
                    data,
                },
            );
            self.try_reassemble_data(tsn);
        }
        self.check_deferred_reset();
    }

    fn mark_received(&mut self, tsn: u64) {
        if tsn == self.peer_cum + 1 {
            self.peer_cum = self.received.advance(tsn);
        } else {
            self.received.insert(tsn);
            // Out of order: report the gap at once (RFC 9260 section 6.7).
            self.sack_due = true;
        }
    }

    fn after_data(&mut self, immediate: bool) {
        self.packets_unacked += 1;
        if immediate || self.packets_unacked >= 2 || !self.received.map.is_empty() {
            self.sack_due = true;
        }
        if !self.sack_due && self.timer(Timer::DelayedAck).is_none() {
            self.set_timer(Timer::DelayedAck, self.now + self.config.delayed_ack);
        }
        // Receive window auto-tuning (like TCP's dynamic right-sizing): the window is kept at
        // twice the octets the peer delivered within one minimum RTT, so it follows the
        // bandwidth-delay product (leaving room for the sender's slow start) without ever
        // shrinking, up to `max_receive_window`. The minimum RTT, not the smoothed one, times
        // the epochs: a queue building on the path must not make the window grow.
        let rtt = self
            .min_rtt
            .unwrap_or(self.config.rto_initial)
            .max(Duration::from_millis(1));
        let want = self.rwnd_epoch_bytes.saturating_mul(2);
        if want > self.rwnd {
            self.rwnd = want.min(self.config.max_receive_window as usize);
        }
        if self.now.saturating_duration_since(self.rwnd_epoch) >= rtt {
            self.rwnd_epoch_bytes = 0;
            self.rwnd_epoch = self.now;
        }
    }

    /// Most fragments one DATA message may have before the peer is aborted: this bounds the
    /// CPU spent scanning for a message's first and last fragment.
    fn max_fragment_scan(&self) -> u64 {
        (self.config.max_message_size as u64 / 512).max(4096)
    }

    fn too_many_fragments(&mut self) {
        self.protocol_violation(
            "message has too many fragments",
            wire::cause::OUT_OF_RESOURCE,
        );
    }

    fn try_reassemble_data(&mut self, tsn: u64) {
        // DATA fragments of one message carry consecutive TSNs (RFC 9260 section 6.9).
        let max = self.config.max_message_size;
        let mut end = None;
        let mut bytes = 0usize;
        let max_scan = self.max_fragment_scan();
        for (expect, (&t, f)) in (tsn..).zip(self.data_frags.range(tsn..)) {
            if t != expect || (t != tsn && f.flags & data_flags::B != 0) {
                break;
            }
            if t - tsn > max_scan {
                return self.too_many_fragments();
            }
            bytes += f.data.len();
            if f.flags & data_flags::E != 0 {
                end = Some(t);
                break;
            }
        }
        let Some(end) = end else {
            return self.check_partial_size(tsn, bytes);
        };
        let mut start = None;
        let mut expect = tsn;
        for (&t, f) in self.data_frags.range(..=tsn).rev() {
            if t != expect || (t != tsn && f.flags & data_flags::E != 0) {
                break;
            }
            if tsn - t > max_scan {
                return self.too_many_fragments();
            }
            if t != tsn {
                bytes += f.data.len();
            }
            if f.flags & data_flags::B != 0 {
                start = Some(t);
                break;
            }
            expect -= 1;
        }
        if bytes > max {
            return self.protocol_violation(
                "message exceeds the maximum message size",
                wire::cause::OUT_OF_RESOURCE,
            );
        }
        let Some(start) = start else { return };
        let mut data = Vec::with_capacity(bytes);
        let mut first: Option<Frag> = None;
        let mut removed = 0usize;
        for t in start..=end {
            if let Some(f) = self.data_frags.remove(&t) {
                data.extend_from_slice(&f.data);
                removed += f.data.len() + FRAGMENT_OVERHEAD;
                if first.is_none() {
                    first = Some(f);
                }
            }
        }
        self.rx_buffered = self.rx_buffered.saturating_sub(removed);
        if let Some(f) = first {
            self.deliver_complete(Complete {
                stream: f.stream,
                unordered: f.flags & data_flags::U != 0,
                mid: f.mid,
                ppid: f.ppid,
                data: Bytes::from(data),
            });
        }
    }

    fn check_partial_size(&mut self, tsn: u64, fwd_bytes: usize) {
        // Fast path: fragments arriving in order extend the run cached in `run_cache`.
        let Some(f) = self.data_frags.get(&tsn) else {
            return;
        };
        let len = f.data.len();
        if f.flags & data_flags::B != 0 {
            self.run_cache = Some((tsn, len));
        } else if let Some((end, bytes)) = self.run_cache
            && end + 1 == tsn
        {
            let bytes = bytes + len;
            self.run_cache = Some((tsn, bytes));
            if bytes > self.config.max_message_size {
                self.protocol_violation(
                    "message exceeds the maximum message size",
                    wire::cause::OUT_OF_RESOURCE,
                );
            }
            return;
        }
        if fwd_bytes <= self.config.max_message_size / 2 && self.data_frags.len() < 256 {
            return;
        }
        // Walk back to see how big the incomplete message already is.
        let mut bytes = fwd_bytes;
        let mut expect = tsn;
        let max_scan = self.max_fragment_scan();
        for (&t, f) in self.data_frags.range(..=tsn).rev() {
            if t != expect {
                break;
            }
            if tsn - t > max_scan {
                return self.too_many_fragments();
            }
            if t != tsn {
                bytes += f.data.len();
            }
            if f.flags & data_flags::B != 0 {
                break;
            }
            expect -= 1;
        }
        if bytes > self.config.max_message_size {
            self.protocol_violation(
                "message exceeds the maximum message size",
                wire::cause::OUT_OF_RESOURCE,
            );
        }
    }

    fn insert_idata_fragment(&mut self, d: &wire::DataChunk<'_>) {
        let key = (d.stream, d.unordered, d.mid);
        let max = self.config.max_message_size;
        let len = d.payload.len();
        let p = self.partials.entry(key).or_default();
        if d.fsn < p.next_fsn || p.frags.contains_key(&d.fsn) {
            return;
        }
        if d.begin {
            p.ppid = d.ppid;
        }
        if d.end {
            p.last = Some(d.fsn);
        }
        p.bytes += len;
        if p.bytes > max {
            self.rx_buffered += len + FRAGMENT_OVERHEAD;
            return self.protocol_violation(
                "message exceeds the maximum message size",
                wire::cause::OUT_OF_RESOURCE,
            );
        }
        if d.fsn == p.next_fsn {
            p.buf.extend_from_slice(d.payload);
            p.next_fsn += 1;
            while let Some(f) = p.frags.remove(&p.next_fsn) {
                p.buf.extend_from_slice(&f);
                p.next_fsn += 1;
            }
        } else {
            p.frags.insert(d.fsn, Bytes::copy_from_slice(d.payload));
        }
        let complete = p
            .last
            .is_some_and(|l| u64::from(l) + 1 == u64::from(p.next_fsn));
        self.rx_buffered += len + FRAGMENT_OVERHEAD;
        if !complete {
            return;
        }
        let Some(p) = self.partials.remove(&key) else {
            return;
        };
        let n = p.count();
        self.rx_buffered = self
            .rx_buffered
            .saturating_sub(p.bytes + n * FRAGMENT_OVERHEAD);
        self.deliver_complete(Complete {
            stream: d.stream,
            unordered: d.unordered,
            mid: d.mid,
            ppid: p.ppid,
            data: Bytes::from(p.buf),
        });
    }

    fn is_next_ssn(&self, stream: u16, mid: u32) -> bool {
        let next = self.in_streams.get(&stream).map_or(0, |s| s.next_ssn);
        if self.idata {
            mid == next
        } else {
            mid & 0xffff == next & 0xffff
        }
    }

    fn deliver_complete(&mut self, m: Complete) {
        if m.unordered {
            self.push_message(m.stream, m.ppid, true, m.data);
            return;
        }
        let idata = self.idata;
        let hs = self.hash_state;
        let s = self.in_streams.entry(m.stream).or_insert_with(|| InStream {
            next_ssn: 0,
            pending: HashMap::with_hasher(hs),
        });
        let next = if idata {
            s.next_ssn
        } else {
            s.next_ssn & 0xffff
        };
        let mid = if idata { m.mid } else { m.mid & 0xffff };
        if mid != next {
            if ssn_lt(next, mid, idata) {
                self.rx_buffered += m.data.len();
                s.pending.insert(mid, (m.ppid, m.data));
            }
            return;
        }
        s.next_ssn = next.wrapping_add(1);
        let stream = m.stream;
        self.push_message(stream, m.ppid, false, m.data);
        self.drain_pending(stream);
    }

    fn drain_pending(&mut self, stream: u16) {
        let idata = self.idata;
        loop {
            let Some(s) = self.in_streams.get_mut(&stream) else {
                return;
            };
            if s.pending.is_empty() {
                return;
            }
            let next = if idata {
                s.next_ssn
            } else {
                s.next_ssn & 0xffff
            };
            let Some((ppid, data)) = s.pending.remove(&next) else {
                return;
            };
            s.next_ssn = next.wrapping_add(1);
            self.rx_buffered = self.rx_buffered.saturating_sub(data.len());
            self.push_message(stream, ppid, false, data);
        }
    }

    fn push_message(&mut self, stream: u16, ppid: u32, unordered: bool, data: Bytes) {
        self.rx_buffered += data.len();
        if self.events.len() >= self.config.max_events {
            // The application does not drain events; treat as resource exhaustion.
            self.protocol_violation("event queue full", wire::cause::OUT_OF_RESOURCE);
            return;
        }
        self.events.push_back(Event::Message {
            stream,
            ppid,
            unordered,
            data,
        });
    }

    fn on_forward_tsn(&mut self, f: &wire::ForwardTsn<'_>) {
        let new = unwrap32(self.peer_cum, f.new_cum_tsn);
        self.sack_due = true;
        if new <= self.peer_cum {
            return;
        }
        // A peer cannot have abandoned more TSNs than it could have had outstanding.
        if new - self.peer_cum > MAX_TSN_AHEAD {
            self.stats.bad_forward_tsn += 1;
            return;
        }
        self.peer_cum = self.received.advance(new);
        // Drop DATA fragments at or below the new cumulative TSN.
        let keep = self.data_frags.split_off(&(new + 1));
        let dropped = core::mem::replace(&mut self.data_frags, keep);
        let freed: usize = dropped
            .values()
            .map(|f| f.data.len() + FRAGMENT_OVERHEAD)
            .sum();
        self.rx_buffered = self.rx_buffered.saturating_sub(freed);
        let idata = self.idata;
        for e in f.entries() {
            if e.stream >= self.inbound_streams {
                continue;
            }
            if idata {
                let mut freed = 0;
                self.partials.retain(|k, p| {
                    let drop = k.0 == e.stream && k.1 == e.unordered && !ssn_lt(e.mid, k.2, true);
                    if drop {
                        freed += p.bytes + p.count() * FRAGMENT_OVERHEAD;
                    }
                    !drop
                });
                self.rx_buffered = self.rx_buffered.saturating_sub(freed);
            }
            if e.unordered {
                continue;
            }
            let hs = self.hash_state;
            let s = self.in_streams.entry(e.stream).or_insert_with(|| InStream {
                next_ssn: 0,
                pending: HashMap::with_hasher(hs),
            });
            let next = if idata {
                s.next_ssn
            } else {
                s.next_ssn & 0xffff
            };
            let mid = if idata { e.mid } else { e.mid & 0xffff };
            if !ssn_lt(mid, next, idata) {
                s.next_ssn = mid.wrapping_add(1);
                let mut freed = 0;
                s.pending.retain(|k, v| {
                    let drop = !ssn_lt(mid, *k, idata);
                    if drop {
                        freed += v.1.len();
                    }
                    !drop
                });
                self.rx_buffered = self.rx_buffered.saturating_sub(freed);
                self.drain_pending(e.stream);
            }
        }
        self.check_deferred_reset();
    }

    // ---------------------------------------------------------------- SACK in

    fn process_cum_ack(&mut self, cum32: u32) -> Option<(u64, usize)> {
        let cum = unwrap32(self.cum_acked, cum32);
        if cum < self.cum_acked || cum >= self.next_tsn {
            return None;
        }
        let mut acked = 0usize;
        while self.cum_acked < cum {
            let Some(s) = self.inflight.pop_front() else {
                break;
            };
            self.cum_acked += 1;
            self.inflight_bytes -= s.data.len().min(self.inflight_bytes);
            if s.in_flight {
                self.flight_size = self.flight_size.saturating_sub(s.data.len());
            }
            if !s.acked && !s.abandoned {
                acked += s.data.len();
                self.newest_acked_tx = self.newest_acked_tx.max(Some(s.tx_seq));
                if s.tx_count == 1 {
                    self.note_ack_rtt(s.sent_at);
                }
            }
            self.rtx.remove(&self.cum_acked);
            if let Some((t, at)) = self.rtt_probe
                && t == self.cum_acked
            {
                if s.tx_count == 1 {
                    self.rtt_sample(self.now.saturating_duration_since(at));
                }
                self.rtt_probe = None;
            }
        }
        if self.advanced_ack < self.cum_acked {
            self.advanced_ack = self.cum_acked;
        }
        Some((cum, acked))
    }

    fn note_ack_rtt(&mut self, sent_at: Instant) {
        let r = self.now.saturating_duration_since(sent_at);
        self.sack_rtt = Some(self.sack_rtt.map_or(r, |m| m.min(r)));
    }

    fn on_sack(&mut self, sack: &wire::Sack<'_>) {
        if !self.is_established_any() && self.state != State::ShutdownAckSent {
            return;
        }
        let old_cum = self.cum_acked;
        let flight_before = self.flight_size;
        self.sack_rtt = None;
        self.newest_acked_tx = None;
        let Some((_, mut bytes_acked)) = self.process_cum_ack(sack.cum_tsn) else {
            return;
        };
        let cum_advanced = self.cum_acked > old_cum;
        if cum_advanced {
            self.error_count = 0;
        }
        // Gap blocks (RFC 9260 section 6.2.1 / 7.2.4).
        let base = self.cum_acked;
        let n = self.inflight.len() as u64;
        for (s, e) in sack.gap_blocks() {
            if s == 0 || e < s {
                continue;
            }
            let (s, e) = (u64::from(s), u64::from(e).min(n));
            for off in s..=e {
                let Some(c) = self.inflight.get_mut((off - 1) as usize) else {
                    break;
                };
                if !c.acked {
                    c.acked = true;
                    if !c.abandoned {
                        bytes_acked += c.data.len();
                        self.newest_acked_tx = self.newest_acked_tx.max(Some(c.tx_seq));
                        if c.tx_count == 1 {
                            let r = self.now.saturating_duration_since(c.sent_at);
                            self.sack_rtt = Some(self.sack_rtt.map_or(r, |m| m.min(r)));
                        }
                    }
                    if c.in_flight {
                        c.in_flight = false;
                        self.flight_size = self.flight_size.saturating_sub(c.data.len());
                    }
                    self.rtx.remove(&(base + off));
                    if let Some((t, at)) = self.rtt_probe
                        && t == base + off
                    {
                        if c.tx_count == 1 {
                            let r = self.now.saturating_duration_since(at);
                            self.rtt_probe = None;
                            self.rtt_sample(r);
                        } else {
                            self.rtt_probe = None;
                        }
                    }
                }
            }
        }
        // Miss indications and fast retransmit (section 7.2.4). HTNA in transmission order:
        // a chunk below the highest TSN the SACK reports gets a miss indication when a chunk
        // transmitted after it was newly acknowledged. For first transmissions this is the
        // RFC's TSN order; a retransmission that is lost again is counted the same way and
        // re-sent after three indications instead of waiting for T3 (like RACK, RFC 8985).
        // Every chunk reaching three indications is marked, all in one recovery episode.
        let highest_acked = sack
            .gap_blocks()
            .filter(|(s, e)| *s != 0 && e >= s)
            .map(|(_, e)| base + u64::from(e))
            .max();
        if let (Some(h), Some(newest)) = (highest_acked, self.newest_acked_tx) {
            let mut lost = false;
            let limit = (h - base) as usize;
            for (i, c) in self.inflight.iter_mut().enumerate().take(limit) {
                if c.acked || c.abandoned || !c.in_flight || c.tx_seq > newest {
                    continue;
                }
                c.miss += 1;
                if c.miss >= 3 {
                    c.miss = 0;
                    c.in_flight = false;
                    self.flight_size = self.flight_size.saturating_sub(c.data.len());
                    self.rtx.insert(base + 1 + i as u64);
                    self.stats.fast_retransmits += 1;
                    lost = true;
                }
            }
            if lost {
                self.hystart.active = false;
                if self.fast_recovery.is_none() {
                    self.ssthresh = (self.cwnd / 2).max(4 * self.config.mtu);
                    self.cwnd = self.ssthresh;
                    self.pba = 0;
                    self.fast_recovery = Some(self.next_tsn - 1);
                }
                self.fast_rtx_pending = true;
            }
        }
        if let Some(exit) = self.fast_recovery
            && self.cum_acked >= exit
        {
            self.fast_recovery = None;
        }
        // Initial slow start: ssthresh was seeded from the peer's first a_rwnd; it follows the
        // peer's window as that grows (section 7.2.1 allows an arbitrarily high initial
        // ssthresh), and HyStart++ ends slow start before the bottleneck queue overflows.
        if self.hystart.active {
            let window = (sack.a_rwnd as usize).saturating_add(self.flight_size);
            self.ssthresh = self.ssthresh.max(window);
        }
        // Congestion window (section 7.2.1 / 7.2.2), grown only while it is fully used.
        let mtu = self.config.mtu;
        if cum_advanced && self.fast_recovery.is_none() && flight_before + mtu >= self.cwnd {
            if self.cwnd <= self.ssthresh {
                self.cwnd += bytes_acked.min(2 * mtu);
                let highest_sent = self.next_tsn - 1;
                if self
                    .hystart
                    .on_ack(self.cum_acked, highest_sent, self.sack_rtt)
                {
                    self.ssthresh = self.cwnd;
                    self.stats.hystart_exits += 1;
                }
            } else {
                self.pba += bytes_acked;
                if self.pba >= self.cwnd {
                    self.pba -= self.cwnd;
                    self.cwnd += mtu;
                }
            }
        }
        let outstanding = self.flight_size;
        self.peer_rwnd = (sack.a_rwnd as usize).saturating_sub(outstanding);

        // T3-rtx (section 6.3.2 rules R2, R3).
        if self.flight_size == 0 && self.rtx.is_empty() {
            self.stop_timer(Timer::T3);
        } else if cum_advanced || self.timer(Timer::T3).is_none() {
            self.set_timer(Timer::T3, self.now + self.rto);
        }
        // PR-SCTP: the peer may have lost our FORWARD-TSN.
        self.advance_abandoned();
        if self.advanced_ack > self.cum_acked {
            self.fwd_pending = true;
        }
        if cum_advanced {
            self.maybe_progress_shutdown();
        }
    }

    fn on_t3(&mut self, now: Instant) {
        if self.inflight.is_empty() {
            return;
        }
        self.stats.t3_expirations += 1;
        self.error_count += 1;
        if self.error_count > self.config.max_retransmits {
            self.close(CloseReason::Timeout);
            return;
        }
        self.hystart.active = false;
        self.ssthresh = (self.cwnd / 2).max(4 * self.config.mtu);
        self.cwnd = self.config.mtu;
        self.pba = 0;
        self.fast_recovery = None;
        self.rto = (self.rto * 2).min(self.config.rto_max);
        self.rtt_probe = None;
        let base = self.cum_acked + 1;
        for (i, c) in self.inflight.iter_mut().enumerate() {
            if c.acked || c.abandoned {
                continue;
            }
            c.in_flight = false;
            self.rtx.insert(base + i as u64);
        }
        self.flight_size = 0;
        self.check_lifetimes(now);
        if self.advanced_ack > self.cum_acked {
            self.fwd_pending = true;
        }
        self.set_timer(Timer::T3, now + self.rto);
    }

    // ---------------------------------------------------------------- PR-SCTP

    fn check_lifetimes(&mut self, now: Instant) {
        let mut expired = Vec::new();
        for c in self.inflight.iter() {
            if c.acked || c.abandoned {
                continue;
            }
            let over_rtx = c.max_rtx.is_some_and(|m| c.tx_count > m);
            let over_ttl = c.expires.is_some_and(|e| now >= e);
            if (over_rtx || over_ttl) && !expired.contains(&(c.stream, c.unordered(), c.mid)) {
                expired.push((c.stream, c.unordered(), c.mid));
            }
        }
        for k in expired {
            self.abandon(k);
        }
    }

    fn abandon(&mut self, key: (u16, bool, u32)) {
        if !self.forward_tsn {
            return;
        }
        self.stats.abandoned_messages += 1;
        let base = self.cum_acked + 1;
        for (i, c) in self.inflight.iter_mut().enumerate() {
            if c.stream == key.0 && c.unordered() == key.1 && c.mid == key.2 && !c.abandoned {
                c.abandoned = true;
                if c.in_flight {
                    c.in_flight = false;
                    self.flight_size = self.flight_size.saturating_sub(c.data.len());
                }
                self.rtx.remove(&(base + i as u64));
            }
        }
        // Drop the unsent rest of the message, if it is partly sent.
        if let Some(s) = self.out_streams.get_mut(&key.0)
            && let Some(m) = s.queue.front()
            && m.mid == Some(key.2)
            && m.opts.unordered == key.1
        {
            let rest = m.data.len() - m.offset;
            s.queue.pop_front();
            s.queued -= rest.min(s.queued);
            self.queued_total -= rest.min(self.queued_total);
            if self.current == Some(key.0) {
                self.current = None;
            }
        }
        self.advance_abandoned();
        if self.advanced_ack > self.cum_acked {
            self.fwd_pending = true;
        }
    }

    fn advance_abandoned(&mut self) {
        if self.advanced_ack < self.cum_acked {
            self.advanced_ack = self.cum_acked;
        }
        let base = self.cum_acked + 1;
        loop {
            let idx = (self.advanced_ack + 1 - base) as usize;
            match self.inflight.get(idx) {
                Some(c) if c.abandoned => self.advanced_ack += 1,
                _ => break,
            }
        }
    }

    fn emit_forward_tsn(&mut self, out: &mut impl wire::Out) {
        let base = self.cum_acked + 1;
        let upto = (self.advanced_ack + 1 - base) as usize;
        let mut entries: Vec<wire::SkipEntry> = Vec::new();
        for c in self.inflight.iter().take(upto) {
            if !self.idata && c.unordered() {
                continue;
            }
            let e = wire::SkipEntry {
                stream: c.stream,
                unordered: c.unordered(),
                mid: c.mid,
            };
            if let Some(x) = entries
                .iter_mut()
                .find(|x| x.stream == e.stream && x.unordered == e.unordered)
            {
                if ssn_lt(x.mid, e.mid, self.idata) {
                    x.mid = e.mid;
                }
            } else if entries.len() < 128 {
                entries.push(e);
            }
        }
        wire::emit_forward_tsn(out, self.idata, self.advanced_ack as u32, &entries);
    }

    // ---------------------------------------------------------------- stream reset

    fn maybe_send_reset_request(&mut self) {
        if self.reset_out.is_some() || self.reset_wanted.is_empty() || !self.is_established() {
            return;
        }
        // Only streams whose queued data has all been assigned a TSN.
        let ready: Vec<u16> = self
            .reset_wanted
            .iter()
            .copied()
            .filter(|s| self.out_streams.get(s).is_none_or(|o| o.queue.is_empty()))
            .take(256)
            .collect();
        if ready.is_empty() {
            return;
        }
        for s in &ready {
            self.reset_wanted.remove(s);
            self.paused.insert(*s);
        }
        let req = ResetRequest {
            seq: self.next_req_seq,
            last_tsn: (self.next_tsn - 1) as u32,
            streams: ready,
        };
        self.next_req_seq = self.next_req_seq.wrapping_add(1);
        self.reset_out = Some(req);
        self.queue_reset_request();
    }

    fn queue_reset_request(&mut self) {
        let Some(r) = &self.reset_out else { return };
        let mut v = Vec::new();
        wire::emit_outgoing_reset(
            &mut v,
            r.seq,
            self.peer_next_req_seq.wrapping_sub(1),
            r.last_tsn,
            &r.streams,
        );
        let mut ch = Vec::new();
        wire::emit_chunk(&mut ch, ct::RECONFIG, 0, &v);
        self.push_ctrl_chunk(ch);
        self.set_timer(Timer::Reconfig, self.now + self.rto);
    }

    fn on_reconfig_timer(&mut self, _now: Instant) {
        if self.reset_out.is_some() {
            self.queue_reset_request();
        }
    }

    fn on_reconfig(&mut self, v: &[u8]) {
        let mut responses: Vec<(u32, u32)> = Vec::new();
        for p in wire::reconfig_params(v).take(4) {
            let Ok(p) = p else {
                self.stats.malformed += 1;
                break;
            };
            match p {
                wire::ReconfigParam::OutgoingReset {
                    req_seq,
                    last_tsn,
                    streams,
                    ..
                } => {
                    let r = self.on_outgoing_reset_request(req_seq, last_tsn, streams);
                    responses.push((req_seq, r));
                }
                wire::ReconfigParam::IncomingReset { req_seq, streams } => {
                    if let Some(r) = self.on_incoming_reset_request(req_seq, streams) {
                        responses.push((req_seq, r));
                    }
                }
                wire::ReconfigParam::Other {
                    req_seq: Some(req_seq),
                    ..
                } => {
                    let r = if req_seq == self.peer_next_req_seq {
                        self.peer_next_req_seq = self.peer_next_req_seq.wrapping_add(1);
                        self.last_peer_result = wire::reconfig_result::DENIED;
                        wire::reconfig_result::DENIED
                    } else {
                        wire::reconfig_result::BAD_SEQ
                    };
                    responses.push((req_seq, r));
                }
                wire::ReconfigParam::Other { req_seq: None, .. } => {}
                wire::ReconfigParam::Response { resp_seq, result } => {
                    self.on_reconfig_response(resp_seq, result)
                }
            }
        }
        if !responses.is_empty() {
            let mut val = Vec::new();
            for (seq, r) in responses {
                wire::emit_reconfig_response(&mut val, seq, r);
            }
            let mut ch = Vec::new();
            wire::emit_chunk(&mut ch, ct::RECONFIG, 0, &val);
            self.push_ctrl_chunk(ch);
        }
    }

    /// RFC 6525 section 5.2.3: the peer asks us to reset our outgoing streams. The answer is
    /// an Outgoing SSN Reset Request for those streams (empty list: all streams) whose
    /// response sequence number names this request; it goes out, like one the application
    /// asked for, once the streams' queued messages all have TSNs. Returns a Re-configuration
    /// Response to send instead, if any.
    fn on_incoming_reset_request(&mut self, req_seq: u32, streams: &[u8]) -> Option<u32> {
        use wire::reconfig_result as rr;
        if req_seq == self.peer_next_req_seq.wrapping_sub(1)
            && self.incoming_reset_seq == Some(req_seq)
        {
            // A retransmission of the request we are answering: our Outgoing SSN Reset Request
            // is queued or on its own retransmission timer.
            return None;
        }
        if req_seq != self.peer_next_req_seq {
            return Some(rr::BAD_SEQ);
        }
        if self.reset_out.is_some() || !self.reset_wanted.is_empty() {
            // Section 5.2.3: one outgoing reset at a time; the peer retries the same request.
            return Some(rr::IN_PROGRESS);
        }
        let mut ids: Vec<u16> = streams
            .chunks_exact(2)
            .map(|c| {
                u16::from_be_bytes([
                    c.first().copied().unwrap_or(0),
                    c.get(1).copied().unwrap_or(0),
                ])
            })
            .collect();
        if ids.iter().any(|&s| s >= self.outbound_streams) {
            self.peer_next_req_seq = self.peer_next_req_seq.wrapping_add(1);
            self.last_peer_result = rr::DENIED;
            return Some(rr::DENIED);
        }
        if ids.is_empty() {
            ids = self.out_streams.keys().copied().collect();
            ids.sort_unstable();
            if ids.is_empty() {
                self.peer_next_req_seq = self.peer_next_req_seq.wrapping_add(1);
                self.last_peer_result = rr::NOTHING_TO_DO;
                return Some(rr::NOTHING_TO_DO);
            }
        }
        self.peer_next_req_seq = self.peer_next_req_seq.wrapping_add(1);
        self.last_peer_result = rr::PERFORMED;
        self.incoming_reset_seq = Some(req_seq);
        self.reset_wanted.extend(ids);
        None
    }

    fn on_outgoing_reset_request(&mut self, req_seq: u32, last_tsn: u32, streams: &[u8]) -> u32 {
        use wire::reconfig_result as rr;
        if req_seq == self.peer_next_req_seq.wrapping_sub(1) {
            return self.last_peer_result;
        }
        if req_seq != self.peer_next_req_seq {
            return rr::BAD_SEQ;
        }
        if let Some(d) = &self.deferred_reset
            && d.seq == req_seq
        {
            return rr::IN_PROGRESS;
        }
        let ids: Vec<u16> = streams
            .chunks_exact(2)
            .map(|c| wire::be16(c, 0).unwrap_or(0))
            .collect();
        if ids.iter().any(|&s| s >= self.inbound_streams) {
            self.peer_next_req_seq = self.peer_next_req_seq.wrapping_add(1);
            self.last_peer_result = rr::DENIED;
            return rr::DENIED;
        }
        let last = unwrap32(self.peer_cum, last_tsn);
        if last > self.peer_cum {
            if last - self.peer_cum > MAX_TSN_AHEAD {
                self.peer_next_req_seq = self.peer_next_req_seq.wrapping_add(1);
                self.last_peer_result = rr::DENIED;
                return rr::DENIED;
            }
            self.deferred_reset = Some(DeferredReset {
                seq: req_seq,
                last_tsn: last,
                streams: ids,
            });
            return rr::IN_PROGRESS;
        }
        self.perform_incoming_reset(ids);
        self.peer_next_req_seq = self.peer_next_req_seq.wrapping_add(1);
        self.last_peer_result = rr::PERFORMED;
        rr::PERFORMED
    }

    fn check_deferred_reset(&mut self) {
        let Some(d) = &self.deferred_reset else {
            return;
        };
        if d.last_tsn > self.peer_cum {
            return;
        }
        let Some(d) = self.deferred_reset.take() else {
            return;
        };
        self.perform_incoming_reset(d.streams);
        self.peer_next_req_seq = self.peer_next_req_seq.wrapping_add(1);
        self.last_peer_result = wire::reconfig_result::PERFORMED;
        let mut val = Vec::new();
        wire::emit_reconfig_response(&mut val, d.seq, wire::reconfig_result::PERFORMED);
        let mut ch = Vec::new();
        wire::emit_chunk(&mut ch, ct::RECONFIG, 0, &val);
        self.push_ctrl_chunk(ch);
    }

    fn perform_incoming_reset(&mut self, ids: Vec<u16>) {
        let streams: Vec<u16> = if ids.is_empty() {
            self.in_streams.keys().copied().collect()
        } else {
            ids
        };
        for s in &streams {
            if let Some(st) = self.in_streams.remove(s) {
                let freed: usize = st.pending.values().map(|v| v.1.len()).sum();
                self.rx_buffered = self.rx_buffered.saturating_sub(freed);
            }
        }
        self.events
            .push_back(Event::IncomingStreamsReset { streams });
    }

    fn on_reconfig_response(&mut self, seq: u32, result: u32) {
        use wire::reconfig_result as rr;
        let Some(r) = &self.reset_out else { return };
        if r.seq != seq {
            return;
        }
        match result {
            rr::IN_PROGRESS => {
                // Retry on the timer.
                self.set_timer(Timer::Reconfig, self.now + self.rto);
            }
            _ => {
                let Some(r) = self.reset_out.take() else {
                    return;
                };
                self.stop_timer(Timer::Reconfig);
                let ok = result == rr::PERFORMED || result == rr::NOTHING_TO_DO;
                for s in &r.streams {
                    self.paused.remove(s);
                    if ok && let Some(o) = self.out_streams.get_mut(s) {
                        o.next_ssn = 0;
                        o.next_umid = 0;
                    }
                    if let Some(o) = self.out_streams.get_mut(s)
                        && !o.queue.is_empty()
                        && !o.in_ready
                    {
                        o.in_ready = true;
                        self.ready.push_back(*s);
                    }
                }
                if ok {
                    self.events
                        .push_back(Event::OutgoingStreamsReset { streams: r.streams });
                }
            }
        }
    }

    // ---------------------------------------------------------------- packet building

    /// Builds the next packet straight into the arena block and cuts it off (no copy).
    fn build_packet(&mut self) -> Option<Bytes> {
        let mut buf = core::mem::take(&mut self.tx_arena);
        buf.clear();
        if buf.capacity() < self.config.mtu + 64 {
            buf = BytesMut::with_capacity(ARENA_BLOCK.max(self.config.mtu + 64));
        }
        let out = self
            .build_packet_into(&mut buf)
            .then(|| buf.split().freeze());
        self.tx_arena = buf;
        out
    }

    fn build_packet_into(&mut self, buf: &mut BytesMut) -> bool {
        let mtu = self.config.mtu;
        wire::emit_common_header(
            buf,
            self.config.src_port,
            self.config.dst_port,
            self.peer_tag,
        );
        // Control chunks first (RFC 9260 section 6.10 bundling).
        while let Some(c) = self.ctrl.front() {
            if c.first() != Some(&0) {
                break;
            }
            let body_len = c.len() - 1;
            if buf.len() + body_len > mtu && buf.len() > wire::COMMON_HEADER_LEN {
                break;
            }
            let Some(c) = self.ctrl.pop_front() else {
                break;
            };
            buf.extend_from_slice(c.get(1..).unwrap_or(&[]));
        }
        if self.sack_due && (self.can_receive_data() || self.state == State::ShutdownReceived) {
            self.emit_sack(buf);
        }
        if self.fwd_pending && self.advanced_ack > self.cum_acked {
            self.fwd_pending = false;
            self.emit_forward_tsn(buf);
        }
        if matches!(
            self.state,
            State::Established | State::ShutdownPending | State::ShutdownReceived
        ) {
            self.emit_data_chunks(buf);
        }
        if buf.len() <= wire::COMMON_HEADER_LEN {
            return false;
        }
        wire::finish_packet(buf, self.zero_checksum_tx);
        true
    }

    fn emit_sack(&mut self, buf: &mut impl wire::Out) {
        let mut gaps: Vec<(u16, u16)> = Vec::new();
        for (&s, &e) in self.received.map.iter() {
            let (Ok(so), Ok(eo)) = (
                u16::try_from(s - self.peer_cum),
                u16::try_from(e - self.peer_cum),
            ) else {
                break;
            };
            gaps.push((so, eo));
            if gaps.len() >= MAX_GAP_BLOCKS {
                break;
            }
        }
        let room = self.config.mtu.saturating_sub(buf.written() + 16) / 4;
        gaps.truncate(room);
        let dups_n = room.saturating_sub(gaps.len()).min(self.dups.len());
        let a_rwnd = self.rwnd.saturating_sub(self.rx_buffered) as u32;
        wire::emit_sack(
            buf,
            self.peer_cum as u32,
            a_rwnd,
            &gaps,
            self.dups.get(..dups_n).unwrap_or(&[]),
        );
        self.dups.clear();
        self.sack_due = false;
        self.packets_unacked = 0;
        self.stop_timer(Timer::DelayedAck);
    }

    fn emit_data_chunks(&mut self, buf: &mut BytesMut) {
        let mtu = self.config.mtu;
        let hl = if self.idata {
            wire::IDATA_HEADER_LEN
        } else {
            wire::DATA_HEADER_LEN
        };
        let now = self.now;
        let mut sent_any = false;
        // Retransmissions first (RFC 9260 section 6.1 rule C / 7.2.4).
        let bypass = core::mem::take(&mut self.fast_rtx_pending);
        while let Some(&tsn) = self.rtx.first() {
            if !bypass && self.flight_size >= self.cwnd {
                break;
            }
            let idx = tsn.wrapping_sub(self.cum_acked + 1) as usize;
            let Some(c) = self.inflight.get(idx) else {
                self.rtx.remove(&tsn);
                continue;
            };
            if c.acked || c.abandoned {
                self.rtx.remove(&tsn);
                continue;
            }
            let expired =
                c.max_rtx.is_some_and(|m| c.tx_count > m) || c.expires.is_some_and(|e| now >= e);
            if expired {
                let key = (c.stream, c.unordered(), c.mid);
                self.rtx.remove(&tsn);
                self.abandon(key);
                if self.fwd_pending && self.advanced_ack > self.cum_acked && buf.len() + 32 < mtu {
                    self.fwd_pending = false;
                    self.emit_forward_tsn(buf);
                }
                continue;
            }
            let need = (hl + c.data.len() + 3) & !3;
            if buf.len() + need > mtu && buf.len() > wire::COMMON_HEADER_LEN {
                break;
            }
            self.rtx.remove(&tsn);
            let idata = self.idata;
            let Some(c) = self.inflight.get_mut(idx) else {
                break;
            };
            wire::emit_data_header(
                buf,
                idata,
                c.flags,
                tsn as u32,
                c.stream,
                c.mid,
                c.fsn,
                c.ppid,
                c.data.len(),
            );
            buf.extend_from_slice(&c.data);
            wire::pad4(buf);
            c.tx_count += 1;
            c.tx_seq = self.next_tx_seq;
            self.next_tx_seq += 1;
            c.sent_at = now;
            c.in_flight = true;
            c.miss = 0;
            self.flight_size += c.data.len();
            self.stats.t3_retransmits += 1;
            if self.rtt_probe.is_some_and(|(t, _)| t == tsn) {
                self.rtt_probe = None;
            }
            sent_any = true;
        }
        // New data (rules A and B: peer window and congestion window).
        loop {
            if !self.rtx.is_empty() {
                break;
            }
            if self.flight_size >= self.cwnd {
                break;
            }
            // Padded chunk must fit: keep the payload a multiple of 4 when fragmenting.
            let room = mtu.saturating_sub(buf.len() + hl) & !3;
            if room < 64 {
                break;
            }
            let zero_window_probe = self.peer_rwnd == 0 && self.flight_size == 0;
            if self.peer_rwnd == 0 && !zero_window_probe {
                break;
            }
            let Some(stream) = self.pick_stream() else {
                break;
            };
            let idata = self.idata;
            let Some(s) = self.out_streams.get_mut(&stream) else {
                self.ready.pop_front();
                continue;
            };
            let Some(m) = s.queue.front_mut() else {
                s.in_ready = false;
                self.ready.pop_front();
                if self.current == Some(stream) {
                    self.current = None;
                }
                continue;
            };
            if m.offset == 0 && m.expires.is_some_and(|e| now >= e) && self.forward_tsn {
                // Expired before it was ever sent: drop silently.
                let len = m.data.len();
                s.queue.pop_front();
                s.queued -= len.min(s.queued);
                self.queued_total -= len.min(self.queued_total);
                self.stats.abandoned_messages += 1;
                continue;
            }
            let remaining = m.data.len() - m.offset;
            // Avoid fragmenting a message that would fit in an empty packet into a tiny tail.
            let max_payload = (mtu - wire::COMMON_HEADER_LEN - hl) & !3;
            if remaining > room
                && remaining <= max_payload
                && buf.len() > wire::COMMON_HEADER_LEN + 200
            {
                break;
            }
            if !zero_window_probe && remaining.min(room) > self.peer_rwnd && self.flight_size > 0 {
                break;
            }
            let take = remaining.min(room);
            let mid = match m.mid {
                Some(x) => x,
                None => {
                    let x = if m.opts.unordered {
                        // With DATA the receiver ignores the SSN of unordered messages; a
                        // private counter still tells messages apart for PR-SCTP abandonment.
                        let x = s.next_umid;
                        s.next_umid = if idata {
                            x.wrapping_add(1)
                        } else {
                            (x + 1) & 0xffff
                        };
                        x
                    } else {
                        let x = s.next_ssn;
                        s.next_ssn = if idata {
                            x.wrapping_add(1)
                        } else {
                            (x + 1) & 0xffff
                        };
                        x
                    };
                    m.mid = Some(x);
                    x
                }
            };
            let begin = m.offset == 0;
            let end = take == remaining;
            let mut flags = 0;
            if m.opts.unordered {
                flags |= data_flags::U;
            }
            if begin {
                flags |= data_flags::B;
            }
            if end {
                flags |= data_flags::E;
            }
            let data = m.data.slice(m.offset..m.offset + take);
            let fsn = m.fsn;
            let ppid = m.ppid;
            let opts = m.opts;
            let expires = m.expires;
            m.offset += take;
            m.fsn = m.fsn.wrapping_add(1);
            s.queued -= take.min(s.queued);
            self.queued_total -= take.min(self.queued_total);
            let crossed = s.queued <= s.low_threshold && s.queued + take > s.low_threshold;
            if end {
                s.queue.pop_front();
                if self.current == Some(stream) {
                    self.current = None;
                }
                self.ready.pop_front();
                if s.queue.is_empty() {
                    s.in_ready = false;
                } else {
                    self.ready.push_back(stream);
                }
            } else if idata {
                // I-DATA: interleave streams fragment by fragment (RFC 8260).
                self.ready.pop_front();
                self.ready.push_back(stream);
            } else {
                self.current = Some(stream);
            }
            if crossed {
                self.events.push_back(Event::BufferedAmountLow { stream });
            }
            let tsn = self.next_tsn;
            self.next_tsn += 1;
            wire::emit_data_header(
                buf,
                idata,
                flags,
                tsn as u32,
                stream,
                mid,
                fsn,
                ppid,
                data.len(),
            );
            buf.extend_from_slice(&data);
            wire::pad4(buf);
            self.flight_size += data.len();
            self.inflight_bytes += data.len();
            self.peer_rwnd = self.peer_rwnd.saturating_sub(data.len());
            if self.rtt_probe.is_none() {
                self.rtt_probe = Some((tsn, now));
            }
            self.next_tx_seq += 1;
            self.inflight.push_back(Sent {
                stream,
                mid,
                fsn,
                ppid,
                flags,
                data,
                sent_at: now,
                tx_count: 1,
                acked: false,
                abandoned: false,
                in_flight: true,
                tx_seq: self.next_tx_seq,
                miss: 0,
                max_rtx: opts.max_retransmits,
                expires,
            });
            sent_any = true;
            if zero_window_probe {
                break;
            }
        }
        if sent_any && self.timer(Timer::T3).is_none() {
            self.set_timer(Timer::T3, now + self.rto);
        }
        if sent_any {
            self.heartbeat_outstanding = false;
            self.arm_heartbeat();
        }
    }

    fn pick_stream(&mut self) -> Option<u16> {
        if let Some(c) = self.current {
            return Some(c);
        }
        loop {
            let s = *self.ready.front()?;
            if self.paused.contains(&s) {
                self.ready.pop_front();
                if let Some(o) = self.out_streams.get_mut(&s) {
                    o.in_ready = false;
                }
                continue;
            }
            return Some(s);
        }
    }
}
