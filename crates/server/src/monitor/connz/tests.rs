//! `/connz` filtering, sorting and paging over synthetic records.

use super::*;
use std::time::UNIX_EPOCH;

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000 + seconds)
}

/// A record whose every sortable figure is derived from `cid` and `seed` so orders differ.
fn record(cid: u64, seed: u64, closed: Option<&'static str>) -> ConnectionRecord {
    ConnectionRecord {
        cid,
        ip: "127.0.0.1".into(),
        port: 40_000 + cid as u16,
        start: at(cid * 10),
        last_activity: at(cid * 10 + seed),
        stop: closed.map(|_| at(1000 + seed)),
        reason: closed,
        rtt_nanos: seed * 1000,
        pending_bytes: seed as usize,
        in_msgs: seed,
        out_msgs: 10 - seed,
        in_bytes: seed * 3,
        out_bytes: 100 - seed,
        num_subscriptions: (seed % 3) as usize,
        subscriptions: Vec::new(),
        identity: Arc::new(ClientIdentity::default()),
        account: "$G".into(),
        websocket: false,
    }
}

/// Runs `query` over open cids 1..=4 and closed cids 5..=6; checks the listed cids and total.
fn check(query: &str, want_cids: &[u64], want_total: usize) {
    let options = ConnzOptions::from_query(&Query::parse(Some(query)))
        .unwrap_or_else(|e| panic!("{query}: {e}"));
    let open = vec![
        record(1, 4, None),
        record(2, 1, None),
        record(3, 3, None),
        record(4, 2, None),
    ];
    let closed = vec![
        Arc::new(record(5, 5, Some("Client Closed"))),
        Arc::new(record(6, 6, Some("Slow Consumer (Pending Bytes)"))),
    ];
    let (open, closed) = match options.state {
        ConnState::Open => (open, Vec::new()),
        ConnState::Closed => (Vec::new(), closed),
        ConnState::Any => (open, closed),
    };
    let answer = connz("ID", at(2000), &options, open, closed);
    let cids: Vec<u64> = answer.connections.iter().map(|c| c.cid).collect();
    assert_eq!(
        (cids.as_slice(), answer.total),
        (want_cids, want_total),
        "{query}"
    );
    assert_eq!(answer.num_connections, want_cids.len(), "{query}");
}

#[test]
fn sorts_like_nats_server() {
    check("", &[1, 2, 3, 4], 4);
    check("sort=start", &[1, 2, 3, 4], 4);
    check("sort=msgs_from", &[1, 3, 4, 2], 4);
    check("sort=bytes_from", &[1, 3, 4, 2], 4);
    check("sort=msgs_to", &[2, 4, 3, 1], 4);
    check("sort=bytes_to", &[2, 4, 3, 1], 4);
    check("sort=pending", &[1, 3, 4, 2], 4);
    check("sort=rtt", &[1, 3, 4, 2], 4);
    // seed % 3: cid1 -> 1, cid2 -> 1, cid3 -> 0, cid4 -> 2; ties keep cid order.
    check("sort=subs", &[4, 1, 2, 3], 4);
    // last activity = cid*10 + seed: 14, 21, 33, 42.
    check("sort=last", &[4, 3, 2, 1], 4);
    check("sort=idle", &[1, 2, 3, 4], 4);
    // uptime = now - start, shortest first.
    check("sort=uptime", &[4, 3, 2, 1], 4);
    check("state=closed&sort=stop", &[6, 5], 2);
    check("state=closed&sort=reason", &[5, 6], 2);
    check("state=any", &[1, 2, 3, 4, 5, 6], 6);
}

#[test]
fn pages_and_filters() {
    check("limit=2", &[1, 2], 4);
    check("offset=1&limit=2", &[2, 3], 4);
    check("offset=3&limit=2", &[4], 4);
    check("offset=10", &[], 4);
    check("sort=msgs_from&offset=1&limit=2", &[3, 4], 4);
    check("cid=3", &[3], 4);
    check("cid=6&state=any", &[6], 6);
    check("cid=99", &[], 4);
    check("acc=$G", &[1, 2, 3, 4], 4);
    check("acc=OTHER", &[], 0);
    check("state=closed", &[5, 6], 2);
}

#[test]
fn rejects_what_nats_server_rejects() {
    for (query, want) in [
        ("sort=bogus", "invalid sorting option: bogus"),
        ("sort=stop", "sort by stop only valid on closed connections"),
        ("sort=reason&state=any", "sort by reason only valid on closed connections"),
        ("state=half", "Error decoding state for half"),
        (
            "limit=x",
            "Error decoding int for 'limit': strconv.Atoi: parsing \"x\": invalid syntax",
        ),
        (
            "cid=x",
            "Error decoding uint64 for 'cid': strconv.ParseUint: parsing \"x\": invalid syntax",
        ),
        (
            "auth=maybe",
            "Error decoding boolean for 'auth': strconv.ParseBool: parsing \"maybe\": invalid syntax",
        ),
    ] {
        let error = ConnzOptions::from_query(&Query::parse(Some(query))).unwrap_err();
        assert_eq!(error.0, want, "{query}");
    }
}

#[test]
fn closed_ring_is_bounded() {
    let ring = ClosedConnections::new(3);
    for cid in 1..=5 {
        ring.push(record(cid, 1, Some("Client Closed")));
    }
    let cids: Vec<u64> = ring.snapshot().iter().map(|r| r.cid).collect();
    assert_eq!(cids, [3, 4, 5]);
}
