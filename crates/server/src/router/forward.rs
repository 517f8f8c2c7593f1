//! Forwarding across accounts, for the subscriptions imports install (`account/imports.rs`):
//! a stream import re-publishes in the importer under its subject, a service import sends the
//! request to the exporter with a `_R_.` reply, and the exporter's answers on such a reply go
//! back to the requester. Subjects are rewritten into reused buffers; forwarding deeper than
//! [`FORWARD_DEPTH_MAX`] is dropped (config load refuses cycles, so only a bug gets there).
//!
//! As in nats-server, whose stream imports deliver straight to the importer's subscribers,
//! a message a stream import brought in is not carried on by another stream import (a
//! service import in between starts afresh).
//!
//! Deliveries count to the account a message was published in, as nats-server counts them:
//! a service import's request counts to the exporter, its answer to the importer; a stream
//! import's deliveries stay with the account it was published in (nats-server's shadow
//! subscriptions match there).
//!
//! A service export with latency tracking samples requests here: a sampled request's route
//! carries its [`Tracking`], and its answer (or its failure: no reply subject, no
//! responder) becomes a [`LatencyReport`] queued to the system account's thread. Exports
//! without tracking pay one `None` check.

use super::{Origin, Router};
use crate::account::config::ResponseType;
use crate::account::imports::{Forward, ServiceImport, StreamImport};
use crate::account::latency::{self, LatencyReport, LatencyStatus, Party, Tracking};
use crate::account::responses::ResponseRoute;
use crate::account::Account;
use crate::server::{ServerState, ServerStats};
use crate::subscription::SubscriptionRef;
use natrium_proto::Publish;
use natrium_subject::mapping::Mapped;
use natrium_sublist::{MatchCache, MatchResult};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::{Instant, SystemTime};

/// How many accounts one message may cross.
pub(crate) const FORWARD_DEPTH_MAX: usize = 8;
/// Other accounts a router keeps a match cache for; beyond, it matches uncached.
const FOREIGN_CACHES_MAX: usize = 8;
/// Subjects each of those caches keeps.
const FOREIGN_CACHE_ENTRIES_MAX: usize = 256;

/// A router's forwarding state.
#[derive(Default)]
pub(super) struct Forwarding {
    depth: usize,
    /// Set while delivering what a stream import brought in.
    in_stream_import: bool,
    /// Subject buffers, one per level in use, kept for reuse.
    buffers: Vec<Vec<u8>>,
    /// Match caches of the accounts forwarded into, by account id.
    caches: Vec<(u64, MatchCache<SubscriptionRef>)>,
    /// The account a service import forwarded the message into, whose deliveries count
    /// there; `None` in the publisher's own account.
    counted_in: Option<Arc<Account>>,
    /// Messages and bytes delivered this batch in accounts other than the publisher's.
    foreign_out: Vec<ForeignCount>,
}

/// One account's deliveries in a batch.
struct ForeignCount {
    account: Arc<Account>,
    msgs: u64,
    bytes: u64,
}

impl Forwarding {
    fn take_buffer(&mut self) -> Vec<u8> {
        self.buffers.pop().unwrap_or_default()
    }

    fn give_back(&mut self, buffer: Vec<u8>) {
        self.buffers.push(buffer);
    }

    /// Counts one delivery to the account a service import forwarded into; false in the
    /// publisher's own account, which the router counts itself.
    pub(super) fn count_foreign(&mut self, bytes: u64) -> bool {
        let Some(account) = &self.counted_in else {
            return false;
        };
        match self
            .foreign_out
            .iter_mut()
            .find(|count| Arc::ptr_eq(&count.account, account))
        {
            Some(count) => {
                count.msgs += 1;
                count.bytes += bytes;
            }
            None => self.foreign_out.push(ForeignCount {
                account: Arc::clone(account),
                msgs: 1,
                bytes,
            }),
        }
        true
    }

    /// Adds the batch's deliveries in other accounts to theirs and the server's.
    pub(super) fn publish_foreign_stats(&mut self, stats: &ServerStats) {
        for count in self.foreign_out.drain(..) {
            stats.out_msgs.fetch_add(count.msgs, Ordering::Relaxed);
            stats.out_bytes.fetch_add(count.bytes, Ordering::Relaxed);
            let account = &count.account.stats;
            account.out_msgs.fetch_add(count.msgs, Ordering::Relaxed);
            account.out_bytes.fetch_add(count.bytes, Ordering::Relaxed);
        }
    }

    /// Delivers with `account` as the account deliveries count to, then restores the
    /// outer one.
    fn counting_in<T>(
        router: &mut Router,
        account: &Arc<Account>,
        deliver: impl FnOnce(&mut Router) -> T,
    ) -> T {
        let outer = router.forwarding.counted_in.replace(Arc::clone(account));
        let result = deliver(router);
        router.forwarding.counted_in = outer;
        result
    }

    /// The subscriptions of `account` matching `subject`, cached for repeating subjects.
    fn matches(&mut self, account: &Account, subject: &[u8]) -> Arc<MatchResult<SubscriptionRef>> {
        if let Some((_, cache)) = self.caches.iter_mut().find(|(id, _)| *id == account.id) {
            return cache.lookup(&account.sublist, subject);
        }
        if self.caches.len() < FOREIGN_CACHES_MAX {
            let mut cache = MatchCache::new(FOREIGN_CACHE_ENTRIES_MAX);
            let matches = cache.lookup(&account.sublist, subject);
            self.caches.push((account.id, cache));
            return matches;
        }
        account.sublist.match_subject(subject).0
    }
}

impl Router {
    /// Forwards a message an import's subscription matched; returns whether anyone took it.
    pub(super) fn forward(
        &mut self,
        server: &ServerState,
        forward: &Forward,
        deliver_subject: &[u8],
        publish: &Publish<'_>,
        origin: Origin,
    ) -> bool {
        let is_stream = matches!(forward, Forward::Stream(_));
        if self.forwarding.depth >= FORWARD_DEPTH_MAX
            || (is_stream && self.forwarding.in_stream_import)
        {
            return false;
        }
        self.forwarding.depth += 1;
        let outer = std::mem::replace(&mut self.forwarding.in_stream_import, is_stream);
        let delivered = match forward {
            Forward::Stream(import) => {
                self.forward_stream(server, import, deliver_subject, publish, origin)
            }
            Forward::Service(import) => {
                self.forward_request(server, import, deliver_subject, publish, origin)
            }
            Forward::Responses(exporter) => {
                self.forward_response(server, exporter, deliver_subject, publish, origin)
            }
        };
        self.forwarding.in_stream_import = outer;
        self.forwarding.depth -= 1;
        delivered
    }

    /// Delivers `publish` in `account` as if published there on `subject`.
    fn deliver_in(
        &mut self,
        server: &ServerState,
        account: &Account,
        subject: &[u8],
        publish: &Publish<'_>,
        origin: Origin,
    ) -> bool {
        let matches = self.forwarding.matches(account, subject);
        self.deliver_all(server, account, &matches, subject, publish, origin)
    }

    /// A stream import: the exporter's message, in the importer under the import's subject.
    /// A JetStream delivery keeps showing its stored subject, as on a direct delivery.
    fn forward_stream(
        &mut self,
        server: &ServerState,
        import: &StreamImport,
        deliver_subject: &[u8],
        publish: &Publish<'_>,
        origin: Origin,
    ) -> bool {
        let Some(importer) = import.importer.upgrade() else {
            return false;
        };
        let mut subject = self.forwarding.take_buffer();
        rewrite(import.transform.as_ref(), deliver_subject, &mut subject);
        let shown = if publish.subject == deliver_subject {
            &subject[..]
        } else {
            publish.subject
        };
        let forwarded = Publish {
            subject: shown,
            ..*publish
        };
        let delivered = self.deliver_in(server, &importer, &subject, &forwarded, origin);
        self.forwarding.give_back(subject);
        delivered
    }

    /// A service import: the request goes to the exporter's subject with a fresh `_R_.`
    /// reply leading back to the requester. As in nats-server, the import itself counts as
    /// a delivery: a requester hears no "no responders" for a service nobody answers.
    fn forward_request(
        &mut self,
        server: &ServerState,
        import: &ServiceImport,
        deliver_subject: &[u8],
        publish: &Publish<'_>,
        origin: Origin,
    ) -> bool {
        let Some(exporter) = import.exporter.upgrade() else {
            return false;
        };
        let mut subject = self.forwarding.take_buffer();
        rewrite(import.transform.as_ref(), deliver_subject, &mut subject);
        // The exporter's own mappings apply to the request, as nats-server's
        // processServiceImport maps it.
        if let Some(mappings) = exporter.mappings() {
            let mut mapped = self.forwarding.take_buffer();
            let random = self.next_random();
            match mappings.map(&subject, crate::client::CLUSTER_NAME, random, &mut mapped) {
                Mapped::Unmapped => self.forwarding.give_back(mapped),
                Mapped::To => self
                    .forwarding
                    .give_back(std::mem::replace(&mut subject, mapped)),
                Mapped::Dropped => {
                    self.forwarding.give_back(mapped);
                    self.forwarding.give_back(subject);
                    return true;
                }
            }
        }
        let sampled = match &import.latency {
            Some(latency) => latency.sample(self.next_random()),
            None => false,
        };
        let mut reply = self.forwarding.take_buffer();
        let routed_reply = match publish.reply {
            Some(original) => {
                let now = Instant::now();
                let singleton = import.response_type == ResponseType::Singleton;
                // As nats-server, only a singleton's answer is measured.
                let tracking = match &import.latency {
                    Some(latency) if sampled && singleton => Some(Box::new(Tracking {
                        subject: Arc::clone(&latency.subject),
                        requestor: Arc::clone(&self.publisher),
                        share: import.share,
                        received: now,
                        received_at: SystemTime::now(),
                    })),
                    _ => None,
                };
                let route = ResponseRoute {
                    importer: Weak::clone(&import.importer),
                    reply: original.into(),
                    singleton,
                    deadline: now + import.response_threshold,
                    tracking,
                };
                let first_tracked =
                    exporter
                        .responses
                        .register(|| self.next_random(), route, now, &mut reply);
                if first_tracked {
                    // The system thread looks for timeouts only while routes are tracked.
                    if let Some(system) = server.system.get() {
                        system.wake();
                    }
                }
                Some(&reply[..])
            }
            None => None,
        };
        if sampled && publish.reply.is_none() {
            let now = SystemTime::now();
            self.report_failure(server, &exporter, import, now, LatencyStatus::BadRequest);
        }
        let forwarded = Publish {
            subject: &subject,
            reply: routed_reply,
            ..*publish
        };
        let delivered = Forwarding::counting_in(self, &exporter, |router| {
            router.deliver_in(server, &exporter, &subject, &forwarded, origin)
        });
        if !delivered && routed_reply.is_some() {
            if let Some(tracking) = exporter.responses.cancel(&reply) {
                let status = LatencyStatus::ServiceUnavailable;
                let received_at = tracking.received_at;
                self.report_failure(server, &exporter, import, received_at, status);
            }
        }
        self.forwarding.give_back(reply);
        self.forwarding.give_back(subject);
        true
    }

    /// Reports a sampled request that got no answer: without a reply subject (400, timed at
    /// once) or without a responder (503, timed from its arrival).
    fn report_failure(
        &self,
        server: &ServerState,
        exporter: &Arc<Account>,
        import: &ServiceImport,
        received_at: SystemTime,
        status: LatencyStatus,
    ) {
        let Some(latency) = &import.latency else {
            return;
        };
        let requestor = Party::of(&self.publisher, import.share);
        let report =
            LatencyReport::failure(exporter, &latency.subject, status, requestor, received_at);
        report_latency(server, report);
    }

    /// An answer on one of the exporter's `_R_.` replies: to the requester's own reply, in
    /// its account, while the route is open.
    fn forward_response(
        &mut self,
        server: &ServerState,
        exporter: &Weak<Account>,
        deliver_subject: &[u8],
        publish: &Publish<'_>,
        origin: Origin,
    ) -> bool {
        let Some(exporter) = exporter.upgrade() else {
            return false;
        };
        let answered = Instant::now();
        let Some(route) = exporter.responses.take(deliver_subject, answered) else {
            return false;
        };
        if let Some(tracking) = &route.tracking {
            self.report_answer(server, &exporter, tracking, answered);
        }
        let Some(importer) = route.importer.upgrade() else {
            return false;
        };
        let forwarded = Publish {
            subject: &route.reply,
            ..*publish
        };
        // Reply subjects are seen once: matched uncached, as the router does for replies.
        let (matches, _) = importer.sublist.match_subject(&route.reply);
        Forwarding::counting_in(self, &importer, |router| {
            router.deliver_all(
                server,
                &importer,
                &matches,
                &route.reply,
                &forwarded,
                origin,
            )
        })
    }

    /// Reports a sampled request's answer (200), this router's publisher being the
    /// responder. Measured before the answer is delivered, as nats-server does.
    fn report_answer(
        &self,
        server: &ServerState,
        exporter: &Arc<Account>,
        tracking: &Tracking,
        answered: Instant,
    ) {
        let requestor = Party::of(&tracking.requestor, tracking.share);
        let responder = Party::of(&self.publisher, true);
        let figures = latency::figures(
            tracking.received,
            answered,
            Instant::now(),
            requestor.rtt,
            responder.rtt,
        );
        let report = LatencyReport {
            exporter: Arc::clone(exporter),
            subject: Arc::clone(&tracking.subject),
            status: LatencyStatus::Ok,
            start: latency::request_start(tracking.received_at, requestor.rtt),
            requestor: Some(requestor),
            responder: Some(responder),
            figures,
        };
        report_latency(server, report);
    }
}

/// Hands a report to the system account's thread, which publishes it. Configuration
/// refuses latency tracking without a system account, so the queue is there.
fn report_latency(server: &ServerState, report: LatencyReport) {
    if let Some(system) = server.system.get() {
        system.push_latency(report);
    }
}

/// `subject` through `transform`, or as is, into `out`.
fn rewrite(
    transform: Option<&crate::account::transform::SubjectTransform>,
    subject: &[u8],
    out: &mut Vec<u8>,
) {
    match transform {
        Some(transform) => transform.apply(subject, out),
        None => {
            out.clear();
            out.extend_from_slice(subject);
        }
    }
}
