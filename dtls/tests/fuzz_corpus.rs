//! Replays the cargo-fuzz seed corpora (../fuzz/corpus/dtls_server, dtls_client) through the
//! same functions the fuzz targets call. `DTLS_WRITE_CORPUS=1` regenerates the transcript
//! seeds from a deterministic run of our client and server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;
use std::time::Instant;

use sansrtc_dtls::fuzzing::{self, Summary};
use sansrtc_dtls::{Endpoint, Event, Role};

/// Run the deterministic fuzz configs against each other; return (client datagrams, server
/// datagrams), including one application data record each way and a close_notify.
fn transcript() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let now = Instant::now();
    let mut c = Endpoint::new(fuzzing::config(Role::Client), now).unwrap();
    let mut s = Endpoint::new(fuzzing::config(Role::Server), now).unwrap();
    let (mut cd, mut sd) = (Vec::new(), Vec::new());
    let mut sent = false;
    for _ in 0..20 {
        while let Some(t) = c.poll_transmit() {
            cd.push(t.payload.to_vec());
            let _ = s.handle_receive(now, &t.payload);
        }
        while let Some(t) = s.poll_transmit() {
            sd.push(t.payload.to_vec());
            let _ = c.handle_receive(now, &t.payload);
        }
        while let Some(e) = s.poll_event() {
            if let Event::ApplicationData(d) = e {
                s.send(&d).unwrap();
            }
        }
        while c.poll_event().is_some() {}
        if c.is_connected() && !sent {
            c.send(b"ping").unwrap();
            sent = true;
        }
    }
    assert!(c.is_connected() && s.is_connected());
    c.close();
    while let Some(t) = c.poll_transmit() {
        cd.push(t.payload.to_vec());
    }
    (cd, sd)
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn write_corpus_if_asked() {
    let (cd, sd) = transcript();
    // Client flights feed the fuzzed server, server flights the fuzzed client.
    let server_seed = fuzzing::join(&cd);
    let client_seed = fuzzing::join(&sd);
    assert_eq!(
        fuzzing::drive(Role::Server, &server_seed),
        Summary {
            connected: true,
            app_data: 1,
            closed: true
        }
    );
    assert!(fuzzing::drive(Role::Client, &client_seed).connected);
    if std::env::var_os("DTLS_WRITE_CORPUS").is_some() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
        for (t, name, data) in [
            ("dtls_server", "transcript", server_seed.clone()),
            ("dtls_server", "client_hello", fuzzing::join(&cd[..1])),
            ("dtls_client", "transcript", client_seed.clone()),
            ("dtls_client", "server_flight4", fuzzing::join(&sd[..1])),
        ] {
            std::fs::create_dir_all(root.join(t)).unwrap();
            std::fs::write(root.join(t).join(name), data).unwrap();
        }
        let chromium: Vec<Vec<u8>> = include_str!("data/chromium156_client_hello_mlkem.hex")
            .lines()
            .map(|l| {
                (0..l.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&l[i..i + 2], 16).unwrap())
                    .collect()
            })
            .collect();
        std::fs::write(
            root.join("dtls_server/chromium156_client_hello"),
            fuzzing::join(&chromium),
        )
        .unwrap();
    }
}

#[test]
fn replay_server_corpus() {
    let files = corpus("dtls_server");
    assert!(files.len() >= 3, "corpus is empty");
    let got: Vec<Summary> = files
        .iter()
        .map(|f| fuzzing::drive(Role::Server, f))
        .collect();
    // The transcript seed gets past the handshake into application data.
    assert!(
        got.iter().any(|s| s.connected && s.app_data == 1),
        "{got:?}"
    );
    for f in &files {
        fuzzing::dtls_server(f);
    }
}

#[test]
fn replay_client_corpus() {
    let files = corpus("dtls_client");
    assert!(files.len() >= 2, "corpus is empty");
    let got: Vec<Summary> = files
        .iter()
        .map(|f| fuzzing::drive(Role::Client, f))
        .collect();
    assert!(
        got.iter().any(|s| s.connected && s.app_data == 1),
        "{got:?}"
    );
    for f in &files {
        fuzzing::dtls_client(f);
    }
}
