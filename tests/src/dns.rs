//! A tiny authoritative DNS server for tests: UDP on `127.0.0.1:0`, answering TXT queries from a
//! map that tests fill. Unknown names get NXDOMAIN, other record types an empty answer. It stops
//! when dropped.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use hickory_proto::{
    op::{Message, MessageType, OpCode, ResponseCode},
    rr::{RData, Record, RecordType, rdata::TXT},
};
use tokio::{net::UdpSocket, task::JoinHandle};

type Zone = Arc<Mutex<HashMap<String, Vec<String>>>>;

pub struct DnsServer {
    pub addr: SocketAddr,
    zone: Zone,
    task: JoinHandle<()>,
}

impl DnsServer {
    pub async fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind the test DNS socket");
        let addr = socket.local_addr().expect("test DNS address");
        let zone = Zone::default();
        let task = tokio::spawn(serve(socket, zone.clone()));
        Self { addr, zone, task }
    }

    /// Adds a TXT record at `name`.
    pub fn publish_txt(&self, name: &str, value: &str) {
        self.zone.lock().expect("zone lock").entry(key(name)).or_default().push(value.to_string());
    }

    /// Removes every TXT record at `name`.
    pub fn clear_txt(&self, name: &str) {
        self.zone.lock().expect("zone lock").remove(&key(name));
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

async fn serve(socket: UdpSocket, zone: Zone) {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((len, peer)) = socket.recv_from(&mut buf).await else { continue };
        let Some(request) = buf.get(..len).and_then(|bytes| Message::from_vec(bytes).ok()) else { continue };
        let Ok(bytes) = answer(&request, &zone).to_vec() else { continue };
        let _ = socket.send_to(&bytes, peer).await;
    }
}

fn answer(request: &Message, zone: &Zone) -> Message {
    let mut response = Message::response(request.metadata.id, OpCode::Query);
    response.metadata.message_type = MessageType::Response;
    response.metadata.authoritative = true;
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    let Some(query) = request.queries.first() else {
        response.metadata.response_code = ResponseCode::FormErr;
        return response;
    };
    response.add_query(query.clone());
    let values = zone.lock().expect("zone lock").get(&key(&query.name().to_ascii())).cloned();
    match values {
        None => response.metadata.response_code = ResponseCode::NXDomain,
        Some(values) if query.query_type() == RecordType::TXT => {
            for value in values {
                let rdata = RData::TXT(TXT::new(vec![value]));
                response.add_answer(Record::from_rdata(query.name().clone(), 60, rdata));
            }
        }
        Some(_) => {}
    }
    response
}
