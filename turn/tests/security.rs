//! Security properties of the server core: the peer-address policy on the wire, quotas,
//! credentials, nonces, malformed ChannelData, channel number reuse.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test helpers

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sansrtc_stun::{
    Class, IntegrityKey, Message, MessageBuilder, MessageType, Method, PasswordAlgorithm,
    TransactionId, attr,
};
use sansrtc_turn::auth::{StaticUsers, TimeLimitedCredentials};
use sansrtc_turn::client::{Client, ClientConfig, ClientEvent, FamilyRequest};
use sansrtc_turn::server::{Server, ServerConfig, Transport};
use sansrtc_turn::wire;

const REALM: &str = "sec.test";

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn server_addr() -> SocketAddr {
    sa("1.2.3.4:3478")
}

fn server(now: Instant, tweak: impl FnOnce(&mut ServerConfig)) -> Server {
    let users = StaticUsers::new()
        .with_user("alice", "alice-pass")
        .with_user("bob", "bob-pass");
    let mut cfg = ServerConfig::new(REALM, Arc::new(users), "1.2.3.4".parse().unwrap());
    cfg.listen_addrs = vec![server_addr()];
    cfg.relay_ports = 50000..=50009;
    cfg.seed = Some(7);
    tweak(&mut cfg);
    Server::new(cfg, now).unwrap()
}

fn client(user: &str, pass: &str) -> ClientConfig {
    let mut c = ClientConfig::new(server_addr(), user, pass);
    c.seed = Some(3);
    c
}

/// Exchanges datagrams between one client and the server until both are quiet; returns
/// the client's events.
fn pump(s: &mut Server, c: &mut Client, from: SocketAddr, now: Instant) -> Vec<ClientEvent> {
    let mut events = Vec::new();
    for _ in 0..100 {
        let mut any = false;
        while let Some(t) = c.poll_transmit() {
            any = true;
            s.handle_receive(now, Transport::Udp, server_addr(), from, &t.payload);
        }
        while let Some(t) = s.poll_transmit() {
            any = true;
            if t.destination == from {
                c.handle_receive(now, t.source, &t.payload);
            }
        }
        while let Some(e) = c.poll_event() {
            events.push(e);
        }
        if !any {
            break;
        }
    }
    events
}

fn allocated(s: &mut Server, from: SocketAddr, user: &str, pass: &str, now: Instant) -> Client {
    let mut c = Client::new(client(user, pass), now);
    c.allocate(now).unwrap();
    let ev = pump(s, &mut c, from, now);
    assert!(
        matches!(ev.first(), Some(ClientEvent::Allocated { .. })),
        "{ev:?}"
    );
    c
}

/// Sends raw bytes; returns the server's responses to `from`.
fn raw(s: &mut Server, now: Instant, from: SocketAddr, bytes: &[u8]) -> Vec<Vec<u8>> {
    s.handle_receive(now, Transport::Udp, server_addr(), from, bytes);
    let mut out = Vec::new();
    while let Some(t) = s.poll_transmit() {
        if t.destination == from {
            out.push(t.payload);
        }
    }
    out
}

fn error_code(resp: &[u8]) -> Option<u16> {
    let m = Message::new_checked(resp).unwrap();
    m.error_code().map(|e| e.code)
}

fn text_attr(resp: &[u8], t: u16) -> String {
    let m = Message::new_checked(resp).unwrap();
    String::from_utf8(m.get(t).unwrap().value.to_vec()).unwrap()
}

struct Creds<'a> {
    user: &'a str,
    pass: &'a str,
    nonce: &'a str,
}

fn request(method: Method, attrs: &[(u16, Vec<u8>)], creds: Option<&Creds<'_>>) -> Vec<u8> {
    let mut buf = vec![0u8; 1024];
    let txid = TransactionId(rand_txid());
    let mut b =
        MessageBuilder::new(&mut buf, MessageType::new(Class::Request, method), txid).unwrap();
    for (t, v) in attrs {
        let v = if *t == attr::XOR_PEER_ADDRESS {
            let addr: SocketAddr = std::str::from_utf8(v).unwrap().parse().unwrap();
            let (e, n) = wire::encode_xor_address(addr, &txid);
            e[..n].to_vec()
        } else {
            v.clone()
        };
        b.add_raw(*t, &v).unwrap();
    }
    let n = match creds {
        Some(c) => {
            b.username(c.user).unwrap();
            b.realm(REALM).unwrap();
            b.nonce(c.nonce).unwrap();
            let key = IntegrityKey::long_term(PasswordAlgorithm::Md5, c.user, REALM, c.pass);
            b.finish_with_integrity(&key).unwrap()
        }
        None => b.finish_with_fingerprint().unwrap(),
    };
    buf.truncate(n);
    buf
}

fn rand_txid() -> [u8; 12] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(1);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let mut t = [0u8; 12];
    t[..8].copy_from_slice(&n.to_be_bytes());
    t
}

fn nonce_for(s: &mut Server, now: Instant, from: SocketAddr) -> String {
    let r = raw(
        s,
        now,
        from,
        &request(
            Method::ALLOCATE,
            &[(attr::REQUESTED_TRANSPORT, vec![17, 0, 0, 0])],
            None,
        ),
    );
    assert_eq!(error_code(&r[0]), Some(401));
    text_attr(&r[0], attr::NONCE)
}

fn peer_attr(p: &str) -> (u16, Vec<u8>) {
    (attr::XOR_PEER_ADDRESS, p.as_bytes().to_vec())
}

#[test]
fn every_denied_peer_form_is_refused_with_403() {
    let now = Instant::now();
    let mut s = server(now, |c| {
        c.relay_ip_v6 = Some("2606:4700::1".parse().unwrap());
    });
    let from = sa("8.8.4.4:5000");
    let mut cfg = client("alice", "alice-pass");
    cfg.family = FamilyRequest::Dual;
    let mut c = Client::new(cfg, now);
    c.allocate(now).unwrap();
    let ev = pump(&mut s, &mut c, from, now);
    assert!(matches!(&ev[0], ClientEvent::Allocated { relayed, .. } if relayed.len() == 2));
    let denied = [
        "0.0.0.0",
        "0.1.2.3",
        "::",
        "::1",
        "127.0.0.1",
        "127.1.2.3",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "169.254.169.254",
        "169.254.1.1",
        "10.0.0.1",
        "10.255.255.255",
        "172.16.0.1",
        "172.31.1.1",
        "192.168.0.1",
        "100.64.0.1",
        "fc00::1",
        "fd00::1",
        "fe80::1",
        "224.0.0.1",
        "239.1.1.1",
        "255.255.255.255",
        "ff02::1",
        "64:ff9b::7f00:1",
        "2002:7f00:1::",
        "1.2.3.4",      // the server's own relay address
        "2606:4700::1", // and its IPv6 one
    ];
    for ip in denied {
        c.create_permission(now, ip.parse().unwrap()).unwrap();
        let ev = pump(&mut s, &mut c, from, now);
        assert_eq!(
            ev,
            vec![ClientEvent::PermissionFailed {
                peer: ip.parse().unwrap(),
                code: Some(403)
            }],
            "{ip}"
        );
        let peer = SocketAddr::new(ip.parse().unwrap(), 9);
        c.bind_channel(now, peer).unwrap();
        let ev = pump(&mut s, &mut c, from, now);
        assert_eq!(
            ev,
            vec![ClientEvent::ChannelBindFailed {
                peer,
                code: Some(403)
            }],
            "{ip}"
        );
    }
    // The server's listening address is refused even when its IP is allowed.
    let mut s2 = server(now, |c| {
        c.policy = c.policy.clone().allow("1.2.3.4".parse().unwrap());
    });
    let mut c2 = allocated(&mut s2, from, "alice", "alice-pass", now);
    c2.bind_channel(now, server_addr()).unwrap();
    let ev = pump(&mut s2, &mut c2, from, now);
    assert!(matches!(
        ev[0],
        ClientEvent::ChannelBindFailed {
            code: Some(403),
            ..
        }
    ));
    // Public addresses are fine, and a Send indication to a denied address relays nothing.
    c.create_permission(now, "8.8.8.8".parse().unwrap())
        .unwrap();
    let ev = pump(&mut s, &mut c, from, now);
    assert!(matches!(ev[0], ClientEvent::PermissionCreated { .. }));
    let before = s.stats().relayed_to_peer;
    c.send(now, sa("127.0.0.1:9"), b"x").unwrap();
    c.send(now, sa("169.254.169.254:80"), b"x").unwrap();
    let _ = pump(&mut s, &mut c, from, now);
    assert_eq!(s.stats().relayed_to_peer, before);
    c.send(now, sa("8.8.8.8:53"), b"x").unwrap();
    s.handle_receive(
        now,
        Transport::Udp,
        server_addr(),
        from,
        &c.poll_transmit().unwrap().payload,
    );
    let t = s.poll_transmit().unwrap();
    assert_eq!(t.destination, sa("8.8.8.8:53"));
    assert_eq!(t.payload, b"x");
}

#[test]
fn an_allow_list_admits_loopback_for_tests() {
    let now = Instant::now();
    let mut s = server(now, |c| {
        c.policy = c.policy.clone().allow("127.0.0.0/8".parse().unwrap());
    });
    let from = sa("8.8.4.4:5000");
    let mut c = allocated(&mut s, from, "alice", "alice-pass", now);
    c.create_permission(now, "127.0.0.1".parse().unwrap())
        .unwrap();
    let ev = pump(&mut s, &mut c, from, now);
    assert!(matches!(ev[0], ClientEvent::PermissionCreated { .. }));
    c.create_permission(now, "::1".parse().unwrap()).unwrap();
    let ev = pump(&mut s, &mut c, from, now);
    assert!(matches!(
        ev[0],
        ClientEvent::PermissionFailed {
            code: Some(403),
            ..
        }
    ));
}

#[test]
fn quotas_answer_486_and_508() {
    let now = Instant::now();
    // per user
    let mut s = server(now, |c| c.max_allocations_per_user = 2);
    let _a1 = allocated(&mut s, sa("8.8.4.4:1"), "alice", "alice-pass", now);
    let _a2 = allocated(&mut s, sa("8.8.4.4:2"), "alice", "alice-pass", now);
    let mut a3 = Client::new(client("alice", "alice-pass"), now);
    a3.allocate(now).unwrap();
    let ev = pump(&mut s, &mut a3, sa("8.8.4.4:3"), now);
    assert_eq!(ev, vec![ClientEvent::AllocationFailed { code: Some(486) }]);
    let _b = allocated(&mut s, sa("8.8.4.4:4"), "bob", "bob-pass", now);
    // in total
    let mut s = server(now, |c| c.max_allocations = 1);
    let _a = allocated(&mut s, sa("8.8.4.4:1"), "alice", "alice-pass", now);
    let mut b = Client::new(client("bob", "bob-pass"), now);
    b.allocate(now).unwrap();
    let ev = pump(&mut s, &mut b, sa("8.8.4.4:2"), now);
    assert_eq!(ev, vec![ClientEvent::AllocationFailed { code: Some(508) }]);
    // relay ports exhausted (10 ports)
    let mut s = server(now, |c| c.max_allocations_per_user = 100);
    for i in 0..10 {
        let _ = allocated(
            &mut s,
            sa(&format!("8.8.4.4:{}", 100 + i)),
            "alice",
            "alice-pass",
            now,
        );
    }
    let mut c = Client::new(client("alice", "alice-pass"), now);
    c.allocate(now).unwrap();
    let ev = pump(&mut s, &mut c, sa("8.8.4.4:200"), now);
    assert_eq!(ev, vec![ClientEvent::AllocationFailed { code: Some(508) }]);
    // and a deallocation frees a port and the quota
    let mut s = server(now, |c| c.max_allocations_per_user = 1);
    let mut a = allocated(&mut s, sa("8.8.4.4:1"), "alice", "alice-pass", now);
    a.deallocate(now).unwrap();
    let ev = pump(&mut s, &mut a, sa("8.8.4.4:1"), now);
    assert_eq!(ev, vec![ClientEvent::Deallocated]);
    assert_eq!(s.allocation_count(), 0);
    let _ = allocated(&mut s, sa("8.8.4.4:2"), "alice", "alice-pass", now);
}

#[test]
fn permission_and_channel_caps_answer_508() {
    let now = Instant::now();
    let mut s = server(now, |c| {
        c.max_permissions = 2;
        c.max_channels = 1;
    });
    let from = sa("8.8.4.4:1");
    let mut c = allocated(&mut s, from, "alice", "alice-pass", now);
    for (i, ip) in ["8.8.8.1", "8.8.8.2", "8.8.8.3"].iter().enumerate() {
        c.create_permission(now, ip.parse().unwrap()).unwrap();
        let ev = pump(&mut s, &mut c, from, now);
        if i < 2 {
            assert!(
                matches!(ev[0], ClientEvent::PermissionCreated { .. }),
                "{ev:?}"
            );
        } else {
            assert!(matches!(
                ev[0],
                ClientEvent::PermissionFailed {
                    code: Some(508),
                    ..
                }
            ));
        }
    }
    c.bind_channel(now, sa("8.8.8.1:1")).unwrap();
    let ev = pump(&mut s, &mut c, from, now);
    assert!(matches!(ev[0], ClientEvent::ChannelBound { .. }));
    c.bind_channel(now, sa("8.8.8.2:1")).unwrap();
    let ev = pump(&mut s, &mut c, from, now);
    assert!(matches!(
        ev[0],
        ClientEvent::ChannelBindFailed {
            code: Some(508),
            ..
        }
    ));
}

#[test]
fn wrong_credentials_are_refused() {
    let now = Instant::now();
    let mut s = server(now, |_| {});
    for (u, p) in [("alice", "wrong"), ("mallory", "x"), ("", "")] {
        let mut c = Client::new(client(u, p), now);
        c.allocate(now).unwrap();
        let ev = pump(&mut s, &mut c, sa("8.8.4.4:1"), now);
        assert_eq!(
            ev,
            vec![ClientEvent::AllocationFailed { code: Some(401) }],
            "{u}"
        );
    }
    assert_eq!(s.allocation_count(), 0);
    // Another user's credentials cannot touch an existing allocation's 5-tuple: 441.
    let from = sa("8.8.4.4:9");
    let _a = allocated(&mut s, from, "alice", "alice-pass", now);
    let nonce = nonce_for(&mut s, now, from);
    let creds = Creds {
        user: "bob",
        pass: "bob-pass",
        nonce: &nonce,
    };
    let r = raw(
        &mut s,
        now,
        from,
        &request(Method::REFRESH, &[], Some(&creds)),
    );
    assert_eq!(error_code(&r[0]), Some(441));
    // A request whose integrity does not verify gets 401, and changes nothing.
    let mut req = request(
        Method::REFRESH,
        &[(attr::LIFETIME, vec![0, 0, 0, 0])],
        Some(&Creds {
            user: "alice",
            pass: "alice-pass",
            nonce: &nonce,
        }),
    );
    let l = req.len();
    req[l - 30] ^= 1; // inside the HMAC
    let r = raw(&mut s, now, from, &req);
    assert!(
        r.is_empty() || error_code(&r[0]) == Some(401),
        "bad integrity accepted"
    );
    assert_eq!(s.allocation_count(), 1);
}

#[test]
fn time_limited_credentials() {
    let t0 = Instant::now();
    let secret = TimeLimitedCredentials::new(b"north-wind");
    let mut cfg_creds = None;
    let mut s = server(t0, |c| {
        c.credentials = Arc::new(secret.clone());
        c.unix_time_at_start = Some(1_700_000_000);
        cfg_creds = Some(());
    });
    let (u, p) = secret.issue(1_700_000_100, "carol");
    let mut c = Client::new(client(&u, &p), t0);
    c.allocate(t0).unwrap();
    let ev = pump(&mut s, &mut c, sa("8.8.4.4:1"), t0);
    assert!(matches!(ev[0], ClientEvent::Allocated { .. }), "{ev:?}");
    // 200 s later the username has expired.
    let later = t0 + Duration::from_secs(200);
    let mut c = Client::new(client(&u, &p), later);
    c.allocate(later).unwrap();
    let ev = pump(&mut s, &mut c, sa("8.8.4.4:2"), later);
    assert_eq!(ev, vec![ClientEvent::AllocationFailed { code: Some(401) }]);
    // a forged password for a fresh expiry
    let mut c = Client::new(client("1800000000:carol", "forged"), later);
    c.allocate(later).unwrap();
    let ev = pump(&mut s, &mut c, sa("8.8.4.4:3"), later);
    assert_eq!(ev, vec![ClientEvent::AllocationFailed { code: Some(401) }]);
}

#[test]
fn replayed_and_stale_nonces_get_438() {
    let now = Instant::now();
    let mut s = server(now, |c| c.nonce_lifetime = Duration::from_secs(60));
    let from = sa("8.8.4.4:1");
    let nonce = nonce_for(&mut s, now, from);
    let creds = Creds {
        user: "alice",
        pass: "alice-pass",
        nonce: &nonce,
    };
    let alloc = request(
        Method::ALLOCATE,
        &[(attr::REQUESTED_TRANSPORT, vec![17, 0, 0, 0])],
        Some(&creds),
    );
    // The captured request replayed from another address: the nonce is bound to `from`.
    let r = raw(&mut s, now, sa("6.6.6.6:1"), &alloc);
    assert_eq!(error_code(&r[0]), Some(438));
    assert_eq!(s.allocation_count(), 0);
    // Replayed after the nonce expired, even from the right address.
    let late = now + Duration::from_secs(61);
    let r = raw(&mut s, late, from, &alloc);
    assert_eq!(error_code(&r[0]), Some(438));
    let fresh = text_attr(&r[0], attr::NONCE);
    assert_ne!(fresh, nonce);
    assert_eq!(text_attr(&r[0], attr::REALM), REALM);
    // A forged nonce of the right shape.
    let forged = format!(
        "{}0000ffff0123456789abcdef",
        sansrtc_turn::nonce::NONCE_PREFIX
    );
    let r = raw(
        &mut s,
        now,
        from,
        &request(
            Method::ALLOCATE,
            &[(attr::REQUESTED_TRANSPORT, vec![17, 0, 0, 0])],
            Some(&Creds {
                user: "alice",
                pass: "alice-pass",
                nonce: &forged,
            }),
        ),
    );
    assert_eq!(error_code(&r[0]), Some(438));
    // In time and from the right address it works.
    let r = raw(&mut s, now, from, &alloc);
    assert_eq!(
        Message::new_checked(&r[0][..]).unwrap().class(),
        Class::SuccessResponse
    );
    // Our client recovers from a stale nonce transparently (438 then retry).
    let mut c = allocated(&mut s, sa("8.8.4.4:2"), "bob", "bob-pass", now);
    let later = now + Duration::from_secs(120);
    c.create_permission(later, "8.8.8.8".parse().unwrap())
        .unwrap();
    let errors = s.stats().error_responses;
    let ev = pump(&mut s, &mut c, sa("8.8.4.4:2"), later);
    assert_eq!(
        ev,
        vec![ClientEvent::PermissionCreated {
            peer: "8.8.8.8".parse().unwrap()
        }]
    );
    assert_eq!(s.stats().error_responses, errors + 1, "exactly one 438");
}

#[test]
fn channel_data_with_a_bad_length_is_dropped() {
    let now = Instant::now();
    let mut s = server(now, |_| {});
    let from = sa("8.8.4.4:1");
    let mut c = allocated(&mut s, from, "alice", "alice-pass", now);
    let peer = sa("8.8.8.8:9");
    let ch = c.bind_channel(now, peer).unwrap();
    let _ = pump(&mut s, &mut c, from, now);
    let [h, l] = ch.to_be_bytes();
    let malformed_before = s.stats().malformed;
    for bad in [
        vec![h, l, 0x00, 0x10, 1, 2, 3],   // length beyond the datagram
        vec![h, l, 0xff, 0xff],            // huge length, no data
        vec![h, l, 0x00],                  // truncated header
        vec![0x4f, 0xff, 0x00, 0x01, 0],   // unbound channel
        vec![0x50, 0x00, 0x00, 0x01, 0x0], // reserved range (not TURN)
    ] {
        let r = raw(&mut s, now, from, &bad);
        assert!(r.is_empty());
        assert!(s.poll_transmit().is_none());
    }
    assert!(s.stats().malformed >= malformed_before + 3);
    // a good one still flows, with UDP padding after the data tolerated
    let r = raw(&mut s, now, from, &[h, l, 0x00, 0x02, 7, 8, 0, 0]);
    assert!(r.is_empty());
    let stats = s.stats();
    assert_eq!(stats.relayed_to_peer, 1);
}

#[test]
fn channel_numbers_cannot_be_reused_across_peers() {
    let now = Instant::now();
    let mut s = server(now, |_| {});
    let from = sa("8.8.4.4:1");
    let _c = allocated(&mut s, from, "alice", "alice-pass", now);
    let nonce = nonce_for(&mut s, now, from);
    let creds = Creds {
        user: "alice",
        pass: "alice-pass",
        nonce: &nonce,
    };
    let bind = |ch: u16, peer: &str| {
        request(
            Method::CHANNEL_BIND,
            &[
                (
                    attr::CHANNEL_NUMBER,
                    wire::encode_channel_number(ch).to_vec(),
                ),
                peer_attr(peer),
            ],
            Some(&creds),
        )
    };
    let ok =
        |r: &[Vec<u8>]| Message::new_checked(&r[0][..]).unwrap().class() == Class::SuccessResponse;
    assert!(ok(&raw(&mut s, now, from, &bind(0x4000, "8.8.8.8:1"))));
    // same channel, same peer: a refresh
    assert!(ok(&raw(&mut s, now, from, &bind(0x4000, "8.8.8.8:1"))));
    // same channel, other peer: 400
    let r = raw(&mut s, now, from, &bind(0x4000, "8.8.8.9:1"));
    assert_eq!(error_code(&r[0]), Some(400));
    // other channel, same peer: 400
    let r = raw(&mut s, now, from, &bind(0x4001, "8.8.8.8:1"));
    assert_eq!(error_code(&r[0]), Some(400));
    // channel numbers outside 0x4000..=0x4FFF: 400
    for bad in [0x0000, 0x3FFF, 0x5000, 0xFFFF] {
        let r = raw(&mut s, now, from, &bind(bad, "8.8.8.7:1"));
        assert_eq!(error_code(&r[0]), Some(400), "{bad:#x}");
    }
    // after expiry, the number stays reserved for the cooldown, then is free
    let t = now + Duration::from_secs(601);
    s.handle_timeout(t);
    let nonce2 = nonce_for(&mut s, t, from);
    let creds2 = Creds {
        user: "alice",
        pass: "alice-pass",
        nonce: &nonce2,
    };
    let bind2 = |ch: u16, peer: &str| {
        request(
            Method::CHANNEL_BIND,
            &[
                (
                    attr::CHANNEL_NUMBER,
                    wire::encode_channel_number(ch).to_vec(),
                ),
                peer_attr(peer),
            ],
            Some(&creds2),
        )
    };
    // The allocation expired at 600 s (nobody refreshed it).
    let r = raw(&mut s, t, from, &bind2(0x4000, "8.8.8.9:1"));
    assert_eq!(error_code(&r[0]), Some(437));
}

#[test]
fn requests_without_allocation_and_mismatches() {
    let now = Instant::now();
    let mut s = server(now, |_| {});
    let from = sa("8.8.4.4:1");
    let nonce = nonce_for(&mut s, now, from);
    let creds = Creds {
        user: "alice",
        pass: "alice-pass",
        nonce: &nonce,
    };
    for m in [
        Method::REFRESH,
        Method::CREATE_PERMISSION,
        Method::CHANNEL_BIND,
    ] {
        let r = raw(
            &mut s,
            now,
            from,
            &request(m, &[peer_attr("8.8.8.8:1")], Some(&creds)),
        );
        assert_eq!(error_code(&r[0]), Some(437), "{m}");
    }
    // Allocate without REQUESTED-TRANSPORT: 400; with TCP: 442
    let r = raw(
        &mut s,
        now,
        from,
        &request(Method::ALLOCATE, &[], Some(&creds)),
    );
    assert_eq!(error_code(&r[0]), Some(400));
    let r = raw(
        &mut s,
        now,
        from,
        &request(
            Method::ALLOCATE,
            &[(attr::REQUESTED_TRANSPORT, vec![6, 0, 0, 0])],
            Some(&creds),
        ),
    );
    assert_eq!(error_code(&r[0]), Some(442));
    // IPv6 requested but the server has no IPv6 relay: 440
    let r = raw(
        &mut s,
        now,
        from,
        &request(
            Method::ALLOCATE,
            &[
                (attr::REQUESTED_TRANSPORT, vec![17, 0, 0, 0]),
                (attr::REQUESTED_ADDRESS_FAMILY, vec![2, 0, 0, 0]),
            ],
            Some(&creds),
        ),
    );
    assert_eq!(error_code(&r[0]), Some(440));
    // unknown comprehension-required attribute: 420
    let r = raw(
        &mut s,
        now,
        from,
        &request(
            Method::ALLOCATE,
            &[
                (attr::REQUESTED_TRANSPORT, vec![17, 0, 0, 0]),
                (0x7777, vec![1, 2, 3, 4]),
            ],
            Some(&creds),
        ),
    );
    assert_eq!(error_code(&r[0]), Some(420));
    // a second Allocate on the same 5-tuple with a new transaction: 437; retransmission of
    // the first: the same success again
    let alloc = request(
        Method::ALLOCATE,
        &[(attr::REQUESTED_TRANSPORT, vec![17, 0, 0, 0])],
        Some(&creds),
    );
    let first = raw(&mut s, now, from, &alloc);
    let again = raw(&mut s, now, from, &alloc);
    assert_eq!(first, again);
    let other = request(
        Method::ALLOCATE,
        &[(attr::REQUESTED_TRANSPORT, vec![17, 0, 0, 0])],
        Some(&creds),
    );
    let r = raw(&mut s, now, from, &other);
    assert_eq!(error_code(&r[0]), Some(437));
    assert_eq!(s.allocation_count(), 1);
    // Binding works without credentials on the same port
    let r = raw(&mut s, now, from, &request(Method::BINDING, &[], None));
    let m = Message::new_checked(&r[0][..]).unwrap();
    assert_eq!(m.xor_mapped_address(), Some(from));
}

#[test]
fn sha256_is_negotiated_and_md5_without_offer() {
    let now = Instant::now();
    let mut s = server(now, |_| {});
    let c = allocated(&mut s, sa("8.8.4.4:1"), "alice", "alice-pass", now);
    assert_eq!(c.password_algorithm(), PasswordAlgorithm::Sha256);
    let mut s = server(now, |c| c.offer_sha256 = false);
    let c = allocated(&mut s, sa("8.8.4.4:1"), "alice", "alice-pass", now);
    assert_eq!(c.password_algorithm(), PasswordAlgorithm::Md5);
}

#[test]
fn realm_change_is_followed() {
    // A client that learnt one realm is challenged by a server with another (e.g. after a
    // failover): it recomputes the key and succeeds.
    let now = Instant::now();
    let mut s1 = server(now, |_| {});
    let from = sa("8.8.4.4:1");
    let mut c = allocated(&mut s1, from, "alice", "alice-pass", now);
    let mut s2 = server(now, |c| c.realm = "other.test".into());
    // the allocation does not exist on s2: the refresh is challenged (realm mismatch -> 401)
    // and then fails with 437: the client notices the allocation is gone.
    c.deallocate(now).unwrap();
    let ev = pump(&mut s2, &mut c, from, now);
    assert_eq!(ev, vec![ClientEvent::Deallocated]);
    assert!(
        s2.stats().error_responses >= 2,
        "401 for the realm, then 437"
    );
}

#[test]
fn dual_stack_allocation() {
    let now = Instant::now();
    let mut s = server(now, |c| {
        c.relay_ip_v6 = Some("2606:4700::1".parse().unwrap())
    });
    let mut cfg = client("alice", "alice-pass");
    cfg.family = FamilyRequest::Dual;
    let mut c = Client::new(cfg, now);
    c.allocate(now).unwrap();
    let ev = pump(&mut s, &mut c, sa("8.8.4.4:1"), now);
    let ClientEvent::Allocated { relayed, .. } = &ev[0] else {
        panic!("{ev:?}")
    };
    assert_eq!(relayed.len(), 2);
    assert!(relayed[0].is_ipv4() && relayed[1].is_ipv6());
    assert_eq!(relayed[0].port(), relayed[1].port());
    // IPv6 peer through the IPv6 relayed address
    c.create_permission(now, "2001:4860::1".parse().unwrap())
        .unwrap();
    let _ = pump(&mut s, &mut c, sa("8.8.4.4:1"), now);
    c.send(now, sa("[2001:4860::1]:53"), b"v6").unwrap();
    s.handle_receive(
        now,
        Transport::Udp,
        server_addr(),
        sa("8.8.4.4:1"),
        &c.poll_transmit().unwrap().payload,
    );
    let t = s.poll_transmit().unwrap();
    assert_eq!(t.source, relayed[1]);
    // Without an IPv6 relay: IPv4 only (ADDRESS-ERROR-CODE for IPv6)
    let mut s = server(now, |_| {});
    let mut cfg = client("alice", "alice-pass");
    cfg.family = FamilyRequest::Dual;
    let mut c = Client::new(cfg, now);
    c.allocate(now).unwrap();
    let ev = pump(&mut s, &mut c, sa("8.8.4.4:1"), now);
    assert!(matches!(&ev[0], ClientEvent::Allocated { relayed, .. } if relayed.len() == 1));
}

#[test]
fn bandwidth_cap_drops_excess() {
    let now = Instant::now();
    let mut s = server(now, |c| c.bandwidth_per_allocation = Some(1000));
    let from = sa("8.8.4.4:1");
    let mut c = allocated(&mut s, from, "alice", "alice-pass", now);
    let peer = sa("8.8.8.8:9");
    c.bind_channel(now, peer).unwrap();
    let _ = pump(&mut s, &mut c, from, now);
    for _ in 0..20 {
        c.send(now, peer, &[0u8; 100]).unwrap();
    }
    let _ = pump(&mut s, &mut c, from, now);
    assert_eq!(s.stats().relayed_to_peer, 10);
    assert_eq!(s.stats().dropped_bandwidth, 10);
    // a second later the bucket is full again
    let later = now + Duration::from_secs(1);
    for _ in 0..5 {
        c.send(later, peer, &[0u8; 100]).unwrap();
    }
    let _ = pump(&mut s, &mut c, from, later);
    assert_eq!(s.stats().relayed_to_peer, 15);
}

#[test]
fn even_port_reservation_token() {
    let now = Instant::now();
    let mut s = server(now, |c| c.relay_ports = 50000..=50003);
    let a = sa("8.8.4.4:1");
    let b = sa("8.8.4.4:2");
    let alloc = |nonce: &str, extra: Vec<(u16, Vec<u8>)>| {
        let mut attrs = vec![(attr::REQUESTED_TRANSPORT, vec![17, 0, 0, 0])];
        attrs.extend(extra);
        request(
            Method::ALLOCATE,
            &attrs,
            Some(&Creds {
                user: "alice",
                pass: "alice-pass",
                nonce,
            }),
        )
    };
    let relayed = |r: &[u8]| {
        let m = Message::new_checked(r).unwrap();
        let v = m.get(attr::XOR_RELAYED_ADDRESS).unwrap().value;
        wire::decode_xor_address(v, &m.transaction_id()).unwrap()
    };
    let na = nonce_for(&mut s, now, a);
    let r = raw(
        &mut s,
        now,
        a,
        &alloc(&na, vec![(attr::EVEN_PORT, vec![0x80])]),
    );
    let port = relayed(&r[0]).port();
    assert_eq!(port % 2, 0);
    let token = Message::new_checked(&r[0][..])
        .unwrap()
        .get(attr::RESERVATION_TOKEN)
        .unwrap()
        .value
        .to_vec();
    assert_eq!(token.len(), 8);
    let nb = nonce_for(&mut s, now, b);
    // EVEN-PORT together with RESERVATION-TOKEN is a bad request.
    let r = raw(
        &mut s,
        now,
        b,
        &alloc(
            &nb,
            vec![
                (attr::EVEN_PORT, vec![0]),
                (attr::RESERVATION_TOKEN, token.clone()),
            ],
        ),
    );
    assert_eq!(error_code(&r[0]), Some(400));
    // an unknown token: 508
    let r = raw(
        &mut s,
        now,
        b,
        &alloc(&nb, vec![(attr::RESERVATION_TOKEN, vec![9; 8])]),
    );
    assert_eq!(error_code(&r[0]), Some(508));
    // the token gets the next port
    let r = raw(
        &mut s,
        now,
        b,
        &alloc(&nb, vec![(attr::RESERVATION_TOKEN, token.clone())]),
    );
    assert_eq!(relayed(&r[0]).port(), port + 1);
    // and only once
    let c = sa("8.8.4.4:3");
    let nc = nonce_for(&mut s, now, c);
    let r = raw(
        &mut s,
        now,
        c,
        &alloc(&nc, vec![(attr::RESERVATION_TOKEN, token)]),
    );
    assert_eq!(error_code(&r[0]), Some(508));
    // A reservation that is never used expires after 30 s and its port is free again.
    let mut s = server(now, |c| c.relay_ports = 50000..=50001);
    let na = nonce_for(&mut s, now, a);
    let r = raw(
        &mut s,
        now,
        a,
        &alloc(&na, vec![(attr::EVEN_PORT, vec![0x80])]),
    );
    assert!(relayed(&r[0]).port() == 50000);
    let nb = nonce_for(&mut s, now, b);
    let r = raw(&mut s, now, b, &alloc(&nb, vec![]));
    assert_eq!(
        error_code(&r[0]),
        Some(508),
        "the only other port is reserved"
    );
    let later = now + Duration::from_secs(31);
    s.handle_timeout(later);
    let nb = nonce_for(&mut s, later, b);
    let r = raw(&mut s, later, b, &alloc(&nb, vec![]));
    assert_eq!(relayed(&r[0]).port(), 50001);
}
