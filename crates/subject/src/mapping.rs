//! Subject mappings (nats-server's account `mappings`): a published subject matching a
//! mapping's source is rewritten to one of its destinations, picked by weight, before
//! anything else sees the message.
//!
//! As nats-server's `AddWeightedMappings`: weights are 0–100 and may not total more than
//! 100 per cluster; when they total less, the rest goes to the source subject itself
//! (unchanged), unless the source is listed among the destinations, in which case the rest
//! is dropped (traffic shaping for chaos tests). Destinations with a `cluster` replace the
//! others on a server of that cluster; a server in no cluster (or another one) uses the
//! unscoped ones. When several mappings match, the first added wins (nats-server keeps them
//! in insertion order; from a config file that order is Go's random map order, so Natrium's
//! file order is one of its possible outcomes).
//!
//! Nothing here draws random numbers: the caller passes one in per message.

use crate::transform::{SubjectTransform, TransformError};
use thiserror::Error;

/// The largest weight, meaning "always".
pub const WEIGHT_MAX: u8 = 100;

/// One destination of a mapping, as configured (nats-server's `MapDest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapDestination {
    /// The destination subject (with `$N` and `{{function()}}` tokens).
    pub subject: String,
    /// The share of messages, in percent.
    pub weight: u8,
    /// The cluster this destination applies in; empty for every server.
    pub cluster: String,
}

impl MapDestination {
    /// A destination taking every message.
    pub fn always(subject: &str) -> Self {
        MapDestination {
            subject: subject.to_string(),
            weight: WEIGHT_MAX,
            cluster: String::new(),
        }
    }
}

/// Why a mapping cannot be added, in nats-server's words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MappingError {
    /// The source is not a valid subject.
    #[error("invalid subject")]
    BadSource,
    /// The same destination subject is listed twice.
    #[error("duplicate entry for {0:?}")]
    DuplicateDestination(String),
    /// One weight is over 100.
    #[error("individual weights need to be <= 100")]
    WeightOver100,
    /// The weights of one cluster (or of the unscoped destinations) total over 100.
    #[error("total weight needs to be <= 100")]
    TotalWeightOver100,
    /// A destination does not make a transform of the source.
    #[error(transparent)]
    Destination(#[from] TransformError),
}

/// A destination and the upper end of its share of `0..100`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Weighted {
    transform: SubjectTransform,
    cumulative_weight: u8,
}

/// One source and its destinations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    source: Box<str>,
    source_has_wildcard: bool,
    destinations: Box<[Weighted]>,
    /// Cluster-scoped destination lists, in the order their clusters first appear.
    by_cluster: Box<[ClusterDestinations]>,
}

/// The destinations that replace the unscoped ones on a server of `cluster`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ClusterDestinations {
    cluster: Box<str>,
    destinations: Box<[Weighted]>,
}

/// A destination's transform and its own weight, before the list is completed.
type Share = (SubjectTransform, u8);

impl Mapping {
    /// Builds the mapping of `source` to `destinations`, checked as nats-server does.
    pub fn new(source: &str, destinations: &[MapDestination]) -> Result<Mapping, MappingError> {
        if !crate::is_valid_subject(source.as_bytes()) {
            return Err(MappingError::BadSource);
        }
        let mut unscoped = Vec::new();
        let mut by_cluster: Vec<(Box<str>, Vec<Share>)> = Vec::new();
        for (i, destination) in destinations.iter().enumerate() {
            if destinations[..i]
                .iter()
                .any(|earlier| earlier.subject == destination.subject)
            {
                return Err(MappingError::DuplicateDestination(
                    destination.subject.clone(),
                ));
            }
            if destination.weight > WEIGHT_MAX {
                return Err(MappingError::WeightOver100);
            }
            let cluster_total: u32 = destinations[..=i]
                .iter()
                .filter(|d| d.cluster == destination.cluster)
                .map(|d| u32::from(d.weight))
                .sum();
            if cluster_total > u32::from(WEIGHT_MAX) {
                return Err(MappingError::TotalWeightOver100);
            }
            let transform = SubjectTransform::for_mapping(source, &destination.subject)?;
            let entry = (transform, destination.weight);
            if destination.cluster.is_empty() {
                unscoped.push(entry);
            } else if let Some((_, list)) = by_cluster
                .iter_mut()
                .find(|(name, _)| **name == *destination.cluster)
            {
                list.push(entry);
            } else {
                by_cluster.push((destination.cluster.as_str().into(), vec![entry]));
            }
        }
        let source_listed = destinations.iter().any(|d| d.subject == source);
        let shares = |list| weigh(source, source_listed, list);
        Ok(Mapping {
            source: source.into(),
            source_has_wildcard: crate::has_wildcard(source.as_bytes()),
            destinations: shares(unscoped)?,
            by_cluster: by_cluster
                .into_iter()
                .map(|(cluster, list)| {
                    Ok(ClusterDestinations {
                        cluster,
                        destinations: shares(list)?,
                    })
                })
                .collect::<Result<_, MappingError>>()?,
        })
    }

    /// The source subject or filter.
    pub fn source(&self) -> &str {
        &self.source
    }

    fn matches(&self, subject: &[u8]) -> bool {
        if self.source_has_wildcard {
            crate::matches(self.source.as_bytes(), subject)
        } else {
            *self.source.as_bytes() == *subject
        }
    }

    /// The destination for a message, from `cluster`'s list if it has one; `None` when the
    /// draw falls in the dropped share.
    fn select(&self, cluster: &str, draw: u8) -> Option<&SubjectTransform> {
        let list = self
            .by_cluster
            .iter()
            .find(|scoped| *scoped.cluster == *cluster)
            .map_or(&self.destinations, |scoped| &scoped.destinations);
        list.iter()
            .find(|weighted| draw < weighted.cumulative_weight)
            .map(|weighted| &weighted.transform)
    }
}

/// Completes one destination list as `processDestinations` does: the source itself takes
/// what the weights leave (unless it is listed, which means the rest is dropped), lighter
/// shares come first, and each entry keeps the running total.
fn weigh(
    source: &str,
    source_listed: bool,
    mut list: Vec<Share>,
) -> Result<Box<[Weighted]>, MappingError> {
    let total: u8 = list.iter().map(|(_, weight)| weight).sum();
    if total != WEIGHT_MAX && !source_listed {
        let itself = SubjectTransform::new(source, &numbered_wildcards(source))?;
        list.push((itself, WEIGHT_MAX - total));
    }
    list.sort_by_key(|(_, weight)| *weight);
    let mut cumulative_weight = 0;
    Ok(list
        .into_iter()
        .map(|(transform, weight)| {
            cumulative_weight += weight;
            Weighted {
                transform,
                cumulative_weight,
            }
        })
        .collect())
}

/// `foo.*.*` as the destination that leaves a subject as it is: `foo.$1.$2`.
fn numbered_wildcards(source: &str) -> String {
    let mut position = 0;
    let tokens: Vec<String> = source
        .split('.')
        .map(|token| {
            if token == "*" {
                position += 1;
                format!("${position}")
            } else {
                token.to_string()
            }
        })
        .collect();
    tokens.join(".")
}

/// What [`Mappings::map`] did with a subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapped {
    /// No mapping's source matches: publish on the subject as it is.
    Unmapped,
    /// Publish on the subject written into the output buffer.
    To,
    /// The draw fell in the share nobody takes: deliver the message nowhere.
    Dropped,
}

/// An account's mapping table: sources tried in the order they were added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mappings {
    list: Vec<Mapping>,
}

impl Mappings {
    /// An empty table.
    pub fn new() -> Self {
        Mappings::default()
    }

    /// Adds a mapping, replacing (in place) any with the same source.
    pub fn add(&mut self, mapping: Mapping) {
        match self.list.iter_mut().find(|m| m.source == mapping.source) {
            Some(existing) => *existing = mapping,
            None => self.list.push(mapping),
        }
    }

    /// True if the table has no mappings.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The mappings, in the order they are tried.
    pub fn iter(&self) -> impl Iterator<Item = &Mapping> {
        self.list.iter()
    }

    /// Maps `subject` for a server in `cluster` (empty when it is in none), writing the new
    /// subject into `out` (cleared first). `random` is one uniformly random number per
    /// message: its low half picks the destination, its high half feeds `{{random(n)}}`.
    pub fn map(&self, subject: &[u8], cluster: &str, random: u64, out: &mut Vec<u8>) -> Mapped {
        let Some(mapping) = self.list.iter().find(|m| m.matches(subject)) else {
            return Mapped::Unmapped;
        };
        // Lemire's multiply-shift: uniform in 0..100 from 32 random bits, as Go's
        // `fastrand.Uint32n(100)` draws it.
        let draw = ((random & u64::from(u32::MAX)) * u64::from(WEIGHT_MAX)) >> 32;
        match mapping.select(cluster, draw as u8) {
            Some(transform) => {
                out.clear();
                transform.transform(subject, (random >> 32) as u32, out);
                Mapped::To
            }
            None => Mapped::Dropped,
        }
    }
}

#[cfg(test)]
mod tests;
