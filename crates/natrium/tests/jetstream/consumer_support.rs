//! What the consumer tests share: streams with messages in them, pull requests sent by hand so
//! statuses are seen exactly as clients see them, and consumer info.

use crate::common::{within, within_for};
use async_nats::jetstream::consumer::{self, PullConsumer};
use async_nats::jetstream::{self, stream, Context};
use async_nats::{Client, Message};
use futures::StreamExt;
use std::future::IntoFuture;
use std::time::Duration;

/// A file stream called `name` over `subjects`, with nats-server's defaults otherwise.
pub fn stream_config(name: &str, subjects: &[&str]) -> stream::Config {
    stream::Config {
        name: name.to_string(),
        subjects: subjects.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// Creates the stream `config` describes.
pub async fn create_stream(context: &Context, config: stream::Config) -> stream::Stream {
    within("create stream", context.create_stream(config))
        .await
        .expect("stream created")
}

/// Creates a durable pull consumer `name` with `config` (its durable name is set here).
pub async fn pull_consumer(
    stream: &stream::Stream,
    name: &str,
    config: consumer::pull::Config,
) -> PullConsumer {
    let config = consumer::pull::Config {
        durable_name: Some(name.to_string()),
        ..config
    };
    within("create pull consumer", stream.create_consumer(config))
        .await
        .expect("pull consumer created")
}

/// Publishes `payload` to `subject` and returns its stream sequence once acknowledged.
pub async fn publish(context: &Context, subject: &str, payload: &str) -> u64 {
    let ack = within(
        "publish",
        context.publish(subject.to_string(), payload.to_string().into()),
    )
    .await
    .expect("publish sent");
    within("PubAck", ack.into_future())
        .await
        .expect("publish acknowledged")
        .sequence
}

/// Publishes `count` messages `"0"`, `"1"`, ... to `subject`, all in flight at once, and waits
/// for every PubAck.
pub async fn publish_numbered(context: &Context, subject: &str, count: usize) {
    let mut acks = Vec::with_capacity(count);
    for n in 0..count {
        let ack = within(
            "publish",
            context.publish(subject.to_string(), n.to_string().into()),
        )
        .await
        .expect("publish sent");
        acks.push(ack);
    }
    for ack in acks {
        within("PubAck", ack.into_future())
            .await
            .expect("publish acknowledged");
    }
}

/// A message's payload as text.
pub fn text(message: &jetstream::Message) -> String {
    String::from_utf8_lossy(&message.payload).into_owned()
}

/// A status message's code and description, or `None` for a plain message.
pub fn status(message: &Message) -> Option<(u16, String)> {
    message.status.map(|code| {
        let description = message.description.clone().unwrap_or_default();
        (code.as_u16(), description)
    })
}

/// A header's value, or "" when absent.
pub fn header(message: &Message, name: &str) -> String {
    message
        .headers
        .as_ref()
        .and_then(|headers| headers.get(name))
        .map(|value| value.as_str().to_string())
        .unwrap_or_default()
}

/// Sends a pull request with `body` to `$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>` and
/// returns what arrives on its reply subject: up to `count` messages, or fewer when a terminal
/// status (anything but `100`) arrives first, which is then the last item. Idle heartbeats are
/// included.
pub async fn pull_raw(
    client: &Client,
    stream: &str,
    consumer: &str,
    body: &str,
    count: usize,
) -> Vec<Message> {
    let inbox = client.new_inbox();
    let mut replies = within("subscribe", client.subscribe(inbox.clone()))
        .await
        .expect("subscribed");
    let subject = format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}");
    within(
        "pull request",
        client.publish_with_reply(subject, inbox, body.to_string().into()),
    )
    .await
    .expect("pull request sent");
    let mut received = Vec::new();
    while received.len() < count {
        let message = within_for(Duration::from_secs(5), "pull reply", replies.next())
            .await
            .expect("subscription open");
        let terminal = status(&message).is_some_and(|(code, _)| code != 100);
        received.push(message);
        if terminal {
            break;
        }
    }
    received
}

/// The consumer's info as the server reports it now.
pub async fn consumer_info(stream: &stream::Stream, name: &str) -> consumer::Info {
    within("consumer info", stream.consumer_info(name))
        .await
        .expect("consumer info")
}

/// Polls the consumer's info until `done` holds, within the step timeout; returns that info.
pub async fn info_until(
    stream: &stream::Stream,
    name: &str,
    what: &str,
    done: impl Fn(&consumer::Info) -> bool,
) -> consumer::Info {
    within(what, async {
        loop {
            let info = consumer_info(stream, name).await;
            if done(&info) {
                return info;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
}

/// Fetches up to `count` messages that are already there (a no-wait pull).
pub async fn fetch(consumer: &PullConsumer, count: usize) -> Vec<jetstream::Message> {
    let batch = within("fetch", consumer.fetch().max_messages(count).messages())
        .await
        .expect("fetch request");
    within("fetch messages", batch.collect::<Vec<_>>())
        .await
        .into_iter()
        .map(|message| message.expect("fetched message"))
        .collect()
}

/// Acknowledges every message and waits for the server's confirmation of each.
pub async fn double_ack_all(messages: &[jetstream::Message]) {
    for message in messages {
        within("double ack", message.double_ack())
            .await
            .expect("ack confirmed");
    }
}

/// Asks for up to `count` messages and returns what arrives before the request expires after
/// `expires` (a pull with expiry rather than no_wait).
pub async fn batch_within(
    consumer: &PullConsumer,
    count: usize,
    expires: Duration,
) -> Vec<jetstream::Message> {
    let batch = within(
        "batch",
        consumer
            .batch()
            .max_messages(count)
            .expires(expires)
            .messages(),
    )
    .await
    .expect("batch request");
    within("batch messages", batch.collect::<Vec<_>>())
        .await
        .into_iter()
        .map(|message| message.expect("batch message"))
        .collect()
}
