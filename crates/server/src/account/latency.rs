//! Service latency tracking, as nats-server 2.9 measures it (`shouldSample`,
//! `sendTrackingLatency`, `sendBackendErrorTrackingLatency`): which requests a tracked
//! service export samples, what a sampled request's response route remembers, and the
//! figures of one measurement. Time is passed in; the router measures, and the system
//! account's thread writes the JSON and publishes it in the exporter (`system/latency.rs`),
//! so a reader never serializes or waits for it.

use super::Account;
use crate::client::ClientShared;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// A tracked service export as the router applies it (`latency {}` on the export).
#[derive(Debug)]
pub(crate) struct LatencyExport {
    /// Percentage of requests to measure, 1 to 100.
    pub sampling_percent: u8,
    /// Where the exporter receives the measurements, in its own account.
    pub subject: Arc<str>,
}

impl LatencyExport {
    /// Whether a request is measured, given a fresh random number. Exactly
    /// `sampling_percent` of requests are (nats-server's `rand.Int31n(100) <= sampling`
    /// takes one in a hundred more).
    pub fn sample(&self, random: u64) -> bool {
        self.sampling_percent >= 100 || ((random % 100) as u8) < self.sampling_percent
    }
}

/// What the response route of a measured request remembers until the answer comes.
#[derive(Clone)]
pub(crate) struct Tracking {
    /// The latency subject of the export.
    pub subject: Arc<str>,
    /// The connection that sent the request.
    pub requestor: Arc<ClientShared>,
    /// Whether the import shares the requestor's details (`share: true`).
    pub share: bool,
    /// When the request crossed the import.
    pub received: Instant,
    /// The same moment on the wall clock, for `start`.
    pub received_at: SystemTime,
}

/// A measurement's outcome, with nats-server's status codes and texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LatencyStatus {
    /// The responder answered.
    Ok,
    /// The request had no reply subject.
    BadRequest,
    /// No responder in the exporter received the request.
    ServiceUnavailable,
    /// No answer came within the export's `response_threshold`.
    ServiceTimeout,
}

impl LatencyStatus {
    /// The HTTP-like code nats-server reports.
    pub fn code(self) -> u16 {
        match self {
            LatencyStatus::Ok => 200,
            LatencyStatus::BadRequest => 400,
            LatencyStatus::ServiceUnavailable => 503,
            LatencyStatus::ServiceTimeout => 504,
        }
    }

    /// nats-server's description of the code; empty for 200.
    pub fn description(self) -> &'static str {
        match self {
            LatencyStatus::Ok => "",
            LatencyStatus::BadRequest => "Bad Request",
            LatencyStatus::ServiceUnavailable => "Service Unavailable",
            LatencyStatus::ServiceTimeout => "Service Timeout",
        }
    }
}

/// One side of a measured request: its connection, and the round trip used in the figures
/// (read once, so the JSON shows what the arithmetic used).
pub(crate) struct Party {
    /// The connection.
    pub client: Arc<ClientShared>,
    /// Its round trip when measured.
    pub rtt: Duration,
    /// Whether to describe it fully (the responder always; the requestor if shared).
    pub detailed: bool,
}

impl Party {
    /// `client` with its round trip as of now.
    pub fn of(client: &Arc<ClientShared>, detailed: bool) -> Party {
        let nanos = client.rtt_nanos.load(std::sync::atomic::Ordering::Relaxed);
        Party {
            client: Arc::clone(client),
            rtt: Duration::from_nanos(nanos),
            detailed,
        }
    }
}

/// A finished measurement, for the system account's thread to publish in the exporter.
pub(crate) struct LatencyReport {
    /// The exporting account, where the report is published.
    pub exporter: Arc<Account>,
    /// The export's latency subject.
    pub subject: Arc<str>,
    /// Outcome.
    pub status: LatencyStatus,
    /// Who asked.
    pub requestor: Option<Party>,
    /// Who answered (200 only).
    pub responder: Option<Party>,
    /// When the request started, as seen from the requestor (arrival minus its round trip).
    pub start: SystemTime,
    /// Figures (zero unless answered).
    pub figures: Figures,
}

impl LatencyReport {
    /// A request that got no answer (400, 503, 504): no responder, no figures, started at
    /// its arrival less the requestor's round trip.
    pub fn failure(
        exporter: &Arc<Account>,
        subject: &Arc<str>,
        status: LatencyStatus,
        requestor: Party,
        received_at: SystemTime,
    ) -> LatencyReport {
        LatencyReport {
            exporter: Arc::clone(exporter),
            subject: Arc::clone(subject),
            status,
            start: request_start(received_at, requestor.rtt),
            requestor: Some(requestor),
            responder: None,
            figures: Figures::default(),
        }
    }
}

/// The three durations of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Figures {
    /// The responder's time: arrival to answer, less the responder's round trip.
    pub service: Duration,
    /// The server's own share (nats-server: time spent after the answer arrived).
    pub system: Duration,
    /// What the requestor waited: its round trip, arrival to answer, and `system`.
    pub total: Duration,
}

/// nats-server's `sendTrackingLatency` arithmetic: the request arrived at `received`, its
/// answer at `answered`, and `measured` is when the figures were taken (after reading both
/// parties, which is all a single server's "system" latency is).
pub(crate) fn figures(
    received: Instant,
    answered: Instant,
    measured: Instant,
    requestor_rtt: Duration,
    responder_rtt: Duration,
) -> Figures {
    let service_round_trip = answered.saturating_duration_since(received);
    let service = service_round_trip.saturating_sub(responder_rtt);
    let mut total = requestor_rtt + service_round_trip;
    let mut system = Duration::ZERO;
    if !responder_rtt.is_zero() {
        system = measured.saturating_duration_since(answered);
        total += system;
    }
    Figures {
        service,
        system,
        total,
    }
}

/// When a request started, as nats-server reports it: its arrival less the requestor's
/// round trip.
pub(crate) fn request_start(received_at: SystemTime, requestor_rtt: Duration) -> SystemTime {
    received_at
        .checked_sub(requestor_rtt)
        .unwrap_or(received_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_takes_the_configured_share() {
        let half = LatencyExport {
            sampling_percent: 50,
            subject: "lat".into(),
        };
        let taken = (0..1000u64).filter(|n| half.sample(*n)).count();
        assert_eq!(taken, 500);
        let all = LatencyExport {
            sampling_percent: 100,
            subject: "lat".into(),
        };
        assert!((0..1000u64).all(|n| all.sample(n)));
        let one = LatencyExport {
            sampling_percent: 1,
            subject: "lat".into(),
        };
        assert_eq!((0..1000u64).filter(|n| one.sample(*n)).count(), 10);
    }

    #[test]
    fn figures_follow_nats_server_arithmetic() {
        let received = Instant::now();
        let ms = Duration::from_millis;
        let answered = received + ms(30);
        let measured = answered + Duration::from_micros(5);
        let figures = figures(received, answered, measured, ms(2), ms(1));
        assert_eq!(figures.service, ms(29));
        assert_eq!(figures.system, Duration::from_micros(5));
        assert_eq!(figures.total, ms(32) + Duration::from_micros(5));
        // A responder round trip longer than the service time clamps to zero, as
        // nats-server's `sanitizeLatencyMetric` does.
        let quick = super::figures(received, received + ms(1), measured, ms(2), ms(3));
        assert_eq!(quick.service, Duration::ZERO);
        // Without a responder round trip there is no system share.
        let unmeasured = super::figures(received, answered, measured, ms(2), Duration::ZERO);
        assert_eq!(
            (unmeasured.system, unmeasured.total),
            (Duration::ZERO, ms(32))
        );
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(10);
        assert_eq!(request_start(at, ms(2)), at - ms(2));
    }
}
