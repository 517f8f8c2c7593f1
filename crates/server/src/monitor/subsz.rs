//! `/subsz`: sublist statistics and, with `subs=1`, the subscriptions themselves, paged and
//! optionally only those a `test` subject would reach.

use super::connz::SubDetail;
use super::query::{Query, QueryError};
use natrium_sublist::SublistCounters;
use serde::Serialize;

/// How many subscriptions `/subsz` lists when `limit` is absent (`DefaultSubListSize`).
pub const DEFAULT_SUBSCRIPTION_LIST_SIZE: usize = 1024;

/// nats-server's `SublistStats`. Natrium's match caches are per connection, so the
/// shared-cache figures (`num_cache`, `cache_hit_rate`, fan-out) stay zero.
#[derive(Debug, Default, Serialize)]
pub struct SublistStats {
    /// Subscriptions held.
    pub num_subscriptions: u64,
    /// Entries in the shared match cache (none in Natrium).
    pub num_cache: u64,
    /// Subscriptions ever inserted.
    pub num_inserts: u64,
    /// Subscriptions ever removed.
    pub num_removes: u64,
    /// Full matches computed.
    pub num_matches: u64,
    /// Shared cache hit rate (no shared cache).
    #[serde(serialize_with = "super::format::go_float")]
    pub cache_hit_rate: f64,
    /// Largest cached fan-out (no shared cache).
    pub max_fanout: u64,
    /// Average cached fan-out (no shared cache).
    #[serde(serialize_with = "super::format::go_float")]
    pub avg_fanout: f64,
}

impl SublistStats {
    /// Adds one account's counters.
    pub fn add(&mut self, counters: SublistCounters) {
        self.num_subscriptions += counters.count;
        self.num_inserts += counters.inserts;
        self.num_removes += counters.removes;
        self.num_matches += counters.matches;
    }
}

/// The `/subsz` query.
#[derive(Debug, Clone, Default)]
pub struct SubszOptions {
    /// List the subscriptions.
    pub subscriptions: bool,
    /// Skip this many.
    pub offset: usize,
    /// Show at most this many.
    pub limit: usize,
    /// Only subscriptions a message on this literal subject would reach.
    pub test: Option<String>,
    /// Only this account.
    pub account: String,
}

impl SubszOptions {
    /// Reads the query parameters, with nats-server's error texts.
    pub fn from_query(query: &Query) -> Result<SubszOptions, QueryError> {
        let subscriptions = query.bool("subs")?;
        let offset = query.int("offset")?.max(0) as usize;
        let limit = match query.int("limit")? {
            limit if limit <= 0 => DEFAULT_SUBSCRIPTION_LIST_SIZE,
            limit => limit as usize,
        };
        let test = match query.get("test").unwrap_or_default() {
            "" => None,
            subject if natrium_subject::is_valid_literal_subject(subject.as_bytes()) => {
                Some(subject.to_string())
            }
            subject => {
                return Err(QueryError(format!(
                    "invalid test subject, must be valid publish subject: {subject}"
                )))
            }
        };
        Ok(SubszOptions {
            subscriptions,
            offset,
            limit,
            test,
            account: query.get("acc").unwrap_or_default().to_string(),
        })
    }
}

/// The `/subsz?subs=1` answer (without `subs`, nats-server sends the statistics alone).
#[derive(Debug, Serialize)]
pub struct Subsz {
    /// The server's id.
    pub server_id: String,
    /// Time of the answer.
    pub now: String,
    /// The statistics.
    #[serde(flatten)]
    pub stats: SublistStats,
    /// Subscriptions matching the filters, before paging.
    pub total: usize,
    /// The page's offset.
    pub offset: usize,
    /// The page's size limit.
    pub limit: usize,
    /// The page.
    #[serde(rename = "subscriptions_list", skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<SubDetail>,
}

/// Filters (by `test`), orders and pages `subscriptions`.
pub fn page(options: &SubszOptions, mut subscriptions: Vec<SubDetail>) -> (usize, Vec<SubDetail>) {
    if let Some(test) = &options.test {
        subscriptions
            .retain(|sub| natrium_subject::matches(sub.subject.as_bytes(), test.as_bytes()));
    }
    subscriptions.sort_by(|a, b| {
        (&a.account, a.cid, &a.sid, &a.subject).cmp(&(&b.account, b.cid, &b.sid, &b.subject))
    });
    let total = subscriptions.len();
    let page = subscriptions
        .into_iter()
        .skip(options.offset)
        .take(options.limit)
        .collect();
    (total, page)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(cid: u64, subject: &str) -> SubDetail {
        SubDetail {
            account: Some("$G".into()),
            subject: subject.into(),
            queue: String::new(),
            sid: "1".into(),
            msgs: 0,
            max: 0,
            cid,
        }
    }

    fn check(query: &str, want_total: usize, want_cids: &[u64]) {
        let options = SubszOptions::from_query(&Query::parse(Some(query))).expect("query");
        let subs = vec![
            sub(1, "foo"),
            sub(2, "foo.*"),
            sub(3, "foo.>"),
            sub(4, "*.bar"),
            sub(5, "baz"),
        ];
        let (total, page) = page(&options, subs);
        let cids: Vec<u64> = page.iter().map(|s| s.cid).collect();
        assert_eq!((total, cids.as_slice()), (want_total, want_cids), "{query}");
    }

    #[test]
    fn test_subject_filters_and_pages() {
        check("subs=1", 5, &[1, 2, 3, 4, 5]);
        check("subs=1&test=foo.bar", 3, &[2, 3, 4]);
        check("subs=1&test=foo", 1, &[1]);
        check("subs=1&test=foo.bar&offset=1&limit=1", 3, &[3]);
        check("subs=1&test=nothing", 0, &[]);
        assert_eq!(
            SubszOptions::from_query(&Query::parse(Some("test=foo.*")))
                .unwrap_err()
                .0,
            "invalid test subject, must be valid publish subject: foo.*"
        );
    }
}
