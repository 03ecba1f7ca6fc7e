//! Entry points for the cargo-fuzz targets in `../fuzz` (hidden; behind the `fuzzing`
//! feature).

use core::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sansrtc_stun::{
    Class, IntegrityKey, Message, MessageBuilder, MessageType, Method, PasswordAlgorithm,
    TransactionId, attr,
};

use crate::auth::StaticUsers;
use crate::client::{Client, ClientConfig};
use crate::policy::PeerPolicy;
use crate::server::{Server, ServerConfig, Transport};

const CLIENTS: [&str; 4] = [
    "8.8.4.4:1000",
    "8.8.4.4:1001",
    "9.9.9.9:5000",
    "[2001:4860::5]:7000",
];
const PEERS: [&str; 4] = ["8.8.8.8:53", "127.0.0.1:9", "1.2.3.4:3478", "[::1]:9"];

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)))
}

struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
}

/// Arbitrary datagrams from many 5-tuples (and from peers to relayed addresses), plus
/// correctly authenticated requests with arbitrary attributes, into one server core.
///
/// Oracles: nothing panics; nothing is ever relayed to an address the default policy
/// denies or to the server's own listening address; responses only go to clients that
/// sent something; tables stay within their caps.
pub fn turn_server(data: &[u8]) {
    let t0 = Instant::now();
    let mut now = t0;
    let server_addr = addr("1.2.3.4:3478");
    let users = StaticUsers::new().with_user("alice", "alice-pass");
    let mut cfg = ServerConfig::new("fuzz", Arc::new(users), server_addr.ip());
    cfg.relay_ip_v6 = Some(addr("[2606:4700::1]:0").ip());
    cfg.listen_addrs = vec![server_addr];
    cfg.relay_ports = 50000..=50003;
    cfg.max_allocations = 3;
    cfg.max_allocations_per_user = 2;
    cfg.max_permissions = 4;
    cfg.max_channels = 4;
    cfg.max_transmits = 64;
    cfg.bandwidth_per_allocation = Some(10_000);
    cfg.seed = Some(1);
    cfg.policy = PeerPolicy::default();
    let Ok(mut server) = Server::new(cfg, t0) else {
        return;
    };
    let policy = PeerPolicy::default();
    let clients: Vec<SocketAddr> = CLIENTS.iter().map(|s| addr(s)).collect();
    let peers: Vec<SocketAddr> = PEERS.iter().map(|s| addr(s)).collect();

    // Prime: the first client gets an allocation through the real client core.
    let mut c = Client::new(
        {
            let mut cc = ClientConfig::new(server_addr, "alice", "alice-pass");
            cc.seed = Some(2);
            cc
        },
        t0,
    );
    let _ = c.allocate(t0);
    let first = clients.first().copied().unwrap_or(server_addr);
    for _ in 0..4 {
        while let Some(t) = c.poll_transmit() {
            server.handle_receive(t0, Transport::Udp, server_addr, first, &t.payload);
        }
        while let Some(t) = server.poll_transmit() {
            c.handle_receive(t0, t.source, &t.payload);
        }
    }
    let relayed: Vec<SocketAddr> = c.relayed_addresses().to_vec();
    let mut nonces: Vec<Option<String>> = vec![None; clients.len()];

    let mut cur = Cursor(data);
    let mut txn = 0u64;
    // The allocation-free path: relayed bytes come back in `out`, not in the queue.
    let mut out = vec![0u8; 2048];
    let check = |source: SocketAddr, destination: SocketAddr| {
        assert!(destination != server_addr, "relayed to the server itself");
        if source == server_addr {
            assert!(clients.contains(&destination), "response to a stranger");
        } else {
            assert!(
                policy.check(destination.ip()).is_ok(),
                "relayed to a denied peer {destination}"
            );
        }
    };
    while let Some(op) = cur.byte() {
        // Half of the datagrams go through `handle_receive_into`, with a buffer that is
        // sometimes too small (then the queue must take over).
        let into = op & 0x40 != 0;
        let out_len = if op & 0x20 != 0 { 16 } else { out.len() };
        let sel = usize::from(cur.byte().unwrap_or(0));
        let client = clients
            .get(sel % clients.len())
            .copied()
            .unwrap_or(server_addr);
        let transport = if sel & 0x80 != 0 {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        match op % 6 {
            0 => {
                let len = usize::from(cur.byte().unwrap_or(0));
                let bytes = cur.take(len);
                if into {
                    let buf = out.get_mut(..out_len).unwrap_or_default();
                    if let Some(m) =
                        server.handle_receive_into(now, transport, server_addr, client, bytes, buf)
                    {
                        assert!(m.len <= out_len);
                        check(m.source, m.destination);
                    }
                } else {
                    server.handle_receive(now, transport, server_addr, client, bytes);
                }
            }
            1 => {
                let len = usize::from(cur.byte().unwrap_or(0));
                let bytes = cur.take(len);
                let peer = peers.get((sel >> 2) % peers.len()).copied();
                let relay = relayed.get(sel % relayed.len().max(1)).copied();
                if let (Some(peer), Some(relay)) = (peer, relay) {
                    if into {
                        let buf = out.get_mut(..out_len).unwrap_or_default();
                        if let Some(m) =
                            server.handle_receive_into(now, Transport::Udp, relay, peer, bytes, buf)
                        {
                            assert!(m.len <= out_len);
                            assert_eq!(m.source, server_addr, "peer data goes out the listener");
                            check(m.source, m.destination);
                        }
                    } else {
                        server.handle_receive(now, Transport::Udp, relay, peer, bytes);
                    }
                }
            }
            2 => now += Duration::from_secs(u64::from(cur.byte().unwrap_or(0)) * 8),
            3 => server.handle_timeout(now),
            _ => {
                // An authenticated request with fuzzer-chosen attributes.
                let idx = sel % clients.len();
                let nonce = match nonces.get(idx).cloned().flatten() {
                    Some(n) => n,
                    None => {
                        let n = challenge(&mut server, now, server_addr, client);
                        if let Some(slot) = nonces.get_mut(idx) {
                            slot.clone_from(&n);
                        }
                        match n {
                            Some(n) => n,
                            None => continue,
                        }
                    }
                };
                let method = [
                    Method::ALLOCATE,
                    Method::REFRESH,
                    Method::CREATE_PERMISSION,
                    Method::CHANNEL_BIND,
                ]
                .get(usize::from(op / 6) % 4)
                .copied()
                .unwrap_or(Method::ALLOCATE);
                let len = usize::from(cur.byte().unwrap_or(0));
                let attrs = cur.take(len);
                txn += 1;
                if let Some(req) = signed(method, txn, attrs, &nonce) {
                    server.handle_receive(now, transport, server_addr, client, &req);
                }
            }
        }
        while let Some(t) = server.poll_transmit() {
            check(t.source, t.destination);
        }
        while server.poll_event().is_some() {}
        assert!(server.allocation_count() <= 3);
    }
}

fn challenge(
    server: &mut Server,
    now: Instant,
    server_addr: SocketAddr,
    client: SocketAddr,
) -> Option<String> {
    let mut buf = [0u8; 64];
    let b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Class::Request, Method::ALLOCATE),
        TransactionId([0xAB; 12]),
    )
    .ok()?;
    let n = b.finish();
    server.handle_receive(now, Transport::Udp, server_addr, client, buf.get(..n)?);
    let mut nonce = None;
    while let Some(t) = server.poll_transmit() {
        if let Ok(m) = Message::new_checked(&t.payload[..]) {
            if let Some(a) = m.get(attr::NONCE) {
                nonce = core::str::from_utf8(a.value).ok().map(str::to_owned);
            }
        }
    }
    nonce
}

/// A request signed with alice's MD5 key; `attrs` is a list of
/// (type u16, length u8, value) entries.
fn signed(method: Method, txn: u64, attrs: &[u8], nonce: &str) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 2048];
    let mut id = [0u8; 12];
    id.get_mut(..8)?.copy_from_slice(&txn.to_be_bytes());
    let mut b = MessageBuilder::new(
        &mut buf,
        MessageType::new(Class::Request, method),
        TransactionId(id),
    )
    .ok()?;
    let mut cur = Cursor(attrs);
    while let (Some(h), Some(l)) = (cur.byte(), cur.byte()) {
        let t = u16::from_be_bytes([h, l]);
        let len = usize::from(cur.byte().unwrap_or(0));
        let v = cur.take(len);
        if b.add_raw(t, v).is_err() {
            break;
        }
    }
    b.username("alice").ok()?;
    b.realm("fuzz").ok()?;
    b.nonce(nonce).ok()?;
    let key = IntegrityKey::long_term(PasswordAlgorithm::Md5, "alice", "fuzz", "alice-pass");
    let n = b.finish_with_integrity(&key).ok()?;
    buf.truncate(n);
    Some(buf)
}
