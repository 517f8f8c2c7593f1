//! Service latency tracking (nats-server's `ServiceLatency`): a tracked service export
//! publishes a measurement of each sampled request on its latency subject, in the
//! exporting account, with nats-server 2.9's field names and status codes.

use crate::common::{settle, within, within_for};
use crate::{login, start, Config};
use futures::StreamExt;
use serde_json::Value;
use std::time::Duration;

/// How long a test waits to be sure nothing more arrives.
const SILENCE: Duration = Duration::from_millis(400);
/// How long the responder takes, so the service latency is clearly above zero.
const SERVICE_TIME: Duration = Duration::from_millis(20);

fn tracked(sampling: &str, threshold: &str) -> Config {
    Config::new(&format!(
        r#"
accounts {{
  A {{
    users: [{{user: a, password: a}}]
    exports: [
      {{service: "req.>", response_threshold: "{threshold}", latency: {{sampling: {sampling}, subject: "latency.svc"}}}}
    ]
  }}
  B {{
    users: [{{user: b, password: b}}]
    imports: [
      {{service: {{account: A, subject: "req.private"}}, to: "private"}}
      {{service: {{account: A, subject: "req.shared"}}, to: "shared", share: true}}
    ]
  }}
}}
"#
    ))
}

/// Answers every request on `req.>` after [`SERVICE_TIME`], until dropped.
async fn responder(a: &async_nats::Client) -> tokio::task::JoinHandle<()> {
    let mut requests = a.subscribe("req.>").await.expect("subscribe");
    settle(a).await;
    let a = a.clone();
    tokio::spawn(async move {
        while let Some(request) = requests.next().await {
            tokio::time::sleep(SERVICE_TIME).await;
            if let Some(reply) = request.reply {
                a.publish(reply, "done".into()).await.expect("answer");
            }
        }
    })
}

async fn next_sample(samples: &mut async_nats::Subscriber) -> Value {
    let message = within("a latency sample", samples.next())
        .await
        .expect("subscription open");
    let text = String::from_utf8_lossy(&message.payload);
    // Printed so a run with --nocapture can be checked against the published schema.
    eprintln!("SAMPLE {text}");
    serde_json::from_slice(&message.payload).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn nanos(sample: &Value, field: &str) -> u64 {
    sample[field]
        .as_u64()
        .unwrap_or_else(|| panic!("{field} in {sample}"))
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap_or_else(|| panic!("an object: {value}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn a_sampled_request_reports_its_latency_in_the_exporter() {
    let config = tracked("100%", "2m");
    let server = start(&config, &[]).await;
    let a = login(&server, "a").await;
    let mut samples = a.subscribe("latency.svc").await.expect("subscribe");
    let _answering = responder(&a).await;
    let b = login(&server, "b").await;
    let mut not_in_b = b.subscribe("latency.svc").await.expect("subscribe");
    settle(&b).await;

    let answer = within("request", b.request("private", "q".into()))
        .await
        .expect("an answer");
    assert_eq!(&answer.payload[..], b"done");
    let sample = next_sample(&mut samples).await;
    assert_eq!(sample["type"], "io.nats.server.metric.v1.service_latency");
    assert!(!sample["id"].as_str().expect("id").is_empty(), "{sample}");
    assert!(sample["timestamp"]
        .as_str()
        .expect("timestamp")
        .ends_with('Z'));
    assert!(sample["start"].as_str().expect("start").ends_with('Z'));
    assert_eq!(sample["status"], 200, "{sample}");
    assert!(sample.get("description").is_none(), "{sample}");
    let (service, system, total) = (
        nanos(&sample, "service"),
        nanos(&sample, "system"),
        nanos(&sample, "total"),
    );
    assert!(service > 0 && total > 0, "{sample}");
    assert!(total >= service + system, "{sample}");
    assert!(total >= SERVICE_TIME.as_nanos() as u64, "{sample}");
    assert!(total < Duration::from_secs(5).as_nanos() as u64, "{sample}");
    // Without `share`, the exporter learns the requestor's account and round trip only.
    let requestor = &sample["requestor"];
    assert_eq!(requestor["acc"], "B", "{sample}");
    assert!(
        keys(requestor)
            .iter()
            .all(|key| ["acc", "rtt"].contains(key)),
        "{sample}"
    );
    // The responder is described in full.
    let responder = &sample["responder"];
    assert_eq!(responder["acc"], "A", "{sample}");
    assert_eq!(responder["kind"], "Client", "{sample}");
    assert_eq!(responder["client_type"], "nats", "{sample}");
    assert_eq!(responder["user"], "a", "{sample}");
    assert_eq!(responder["lang"], "rust", "{sample}");
    assert!(responder["id"].as_u64().is_some(), "{sample}");
    assert!(responder["server"].as_str().is_some(), "{sample}");
    assert!(
        responder["rtt"].as_u64().is_some_and(|rtt| rtt > 0),
        "{sample}"
    );

    // An import with `share: true` shows the requestor in full too.
    within("shared request", b.request("shared", "q".into()))
        .await
        .expect("an answer");
    let sample = next_sample(&mut samples).await;
    let requestor = &sample["requestor"];
    assert_eq!(requestor["acc"], "B", "{sample}");
    assert_eq!(requestor["user"], "b", "{sample}");
    assert_eq!(requestor["kind"], "Client", "{sample}");
    assert!(requestor["id"].as_u64().is_some(), "{sample}");

    // Reports go to the exporter only.
    let leaked = tokio::time::timeout(SILENCE, not_in_b.next()).await;
    assert!(leaked.is_err(), "{leaked:?}");
}

#[tokio::test]
async fn sampling_measures_about_the_configured_share_of_requests() {
    const REQUESTS: usize = 200;
    let config = tracked("50%", "2m");
    let server = start(&config, &[]).await;
    let a = login(&server, "a").await;
    let mut samples = a.subscribe("latency.svc").await.expect("subscribe");
    let mut requests = a.subscribe("req.>").await.expect("subscribe");
    settle(&a).await;
    let answering = {
        let a = a.clone();
        tokio::spawn(async move {
            while let Some(request) = requests.next().await {
                if let Some(reply) = request.reply {
                    a.publish(reply, "done".into()).await.expect("answer");
                }
            }
        })
    };
    let b = login(&server, "b").await;
    for _ in 0..REQUESTS {
        within("request", b.request("private", "q".into()))
            .await
            .expect("an answer");
    }
    let mut sampled = 0;
    while let Ok(Some(message)) = tokio::time::timeout(SILENCE, samples.next()).await {
        let sample: Value = serde_json::from_slice(&message.payload).expect("JSON");
        assert_eq!(sample["status"], 200, "{sample}");
        sampled += 1;
    }
    answering.abort();
    assert!(
        (REQUESTS / 4..=REQUESTS * 3 / 4).contains(&sampled),
        "{sampled} of {REQUESTS} sampled at 50%"
    );
}

#[tokio::test]
async fn requests_without_an_answer_report_their_failure() {
    let config = tracked("100", "500ms");
    let server = start(&config, &[]).await;
    let a = login(&server, "a").await;
    let mut samples = a.subscribe("latency.svc").await.expect("subscribe");
    settle(&a).await;
    let b = login(&server, "b").await;
    let impatient = || {
        async_nats::Request::new()
            .payload("q".into())
            .timeout(Some(Duration::from_millis(200)))
    };

    // No responder in A: 503 at once.
    let unanswered = b.send_request("private", impatient()).await;
    assert!(unanswered.is_err());
    let sample = next_sample(&mut samples).await;
    assert_eq!(sample["status"], 503, "{sample}");
    assert_eq!(sample["description"], "Service Unavailable", "{sample}");
    assert_eq!(sample["requestor"]["acc"], "B", "{sample}");
    assert!(sample.get("responder").is_none(), "{sample}");
    assert_eq!(
        (
            nanos(&sample, "service"),
            nanos(&sample, "system"),
            nanos(&sample, "total")
        ),
        (0, 0, 0)
    );

    // A request without a reply subject: 400.
    b.publish("private", "fire and forget".into())
        .await
        .expect("publish");
    b.flush().await.expect("flush");
    let sample = next_sample(&mut samples).await;
    assert_eq!(sample["status"], 400, "{sample}");
    assert_eq!(sample["description"], "Bad Request", "{sample}");
    assert_eq!(sample["requestor"]["acc"], "B", "{sample}");

    // A responder that never answers: 504 once the response threshold passes.
    let _silent = a.subscribe("req.>").await.expect("subscribe");
    settle(&a).await;
    let unanswered = b.send_request("private", impatient()).await;
    assert!(unanswered.is_err());
    let sample = within_for(
        Duration::from_secs(5),
        "a timeout sample",
        next_sample(&mut samples),
    )
    .await;
    assert_eq!(sample["status"], 504, "{sample}");
    assert_eq!(sample["description"], "Service Timeout", "{sample}");
    assert_eq!(sample["requestor"]["acc"], "B", "{sample}");
}
