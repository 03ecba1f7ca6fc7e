//! The `sansrtc` binary as a child process for the server tests: started on port 0, its
//! stderr read line by line, the bound address taken from its first line, stopped by SIGINT.
//! Each test binary uses a different subset of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    /// The first stderr line: "sansrtc <server>: listening on udp A and tcp A".
    pub first: String,
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// Runs `sansrtc ARGS` with `env` set and waits for its "listening on udp A" line.
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::spawn_on(args, env, "udp ")
    }

    /// Like [`Server::spawn`] for a server without UDP: `addr` is the one after "tcp ".
    pub fn spawn_tcp(args: &[&str]) -> Server {
        Self::spawn_on(args, &[], "tcp ")
    }

    fn spawn_on(args: &[&str], env: &[(&str, &str)], key: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sansrtc"))
            .args(args)
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = lines.recv_timeout(Duration::from_secs(10)).unwrap();
        let udp = first.split(key).nth(1).unwrap().split(' ').next().unwrap();
        Server {
            child,
            addr: udp.parse().unwrap(),
            first,
            lines,
        }
    }

    /// SIGINT, a successful exit within 5 s, and every stderr line after the first.
    pub fn interrupt(&mut self) -> Vec<String> {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                assert!(st.success(), "exit status {st}");
                break;
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGINT");
            std::thread::sleep(Duration::from_millis(20));
        }
        // The reader thread may still be forwarding the last lines: read until it hangs up
        // (stderr closed), bounded by the deadline.
        let mut lines = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => lines.push(line),
                Err(_) => break,
            }
        }
        lines
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
