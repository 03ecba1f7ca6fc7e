//! Writes a small capture of a NATed exchange under impairment, to open in Wireshark:
//! `cargo run -p sansrtc-netsim --example pcap_demo -- /tmp/netsim.pcap`.

use sansrtc_netsim::{Datagram, LinkConfig, NatConfig, NatKind, Network, Subnet};
use std::net::SocketAddr;
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "netsim.pcap".to_owned());
    let mut net = Network::new(1);
    net.enable_capture();
    net.set_default_link(
        LinkConfig::default()
            .latency(Duration::from_millis(20))
            .jitter(Duration::from_millis(5))
            .loss(0.1),
    );
    let inside: Subnet = "192.168.1.0/24".parse()?;
    net.add_nat(NatConfig::new(
        NatKind::PortRestricted,
        "203.0.113.1".parse()?,
        [inside],
    ));
    let host: SocketAddr = "192.168.1.10:5000".parse()?;
    let server: SocketAddr = "198.51.100.1:3478".parse()?;
    for i in 0..10u8 {
        net.send(Datagram::new(host, server, vec![i; 40]));
        net.advance(Duration::from_millis(10));
        while let Some(d) = net.poll_recv() {
            // The server echoes to whatever source it saw (the NAT's public mapping).
            if d.dst == server {
                net.send(Datagram::new(server, d.src, d.payload));
            }
        }
    }
    while let Some(t) = net.next_delivery() {
        net.advance_to(t);
        while net.poll_recv().is_some() {}
    }
    net.write_pcap(&path)?;
    println!("wrote {} records to {path}", net.captured().len());
    Ok(())
}
