//! Sublist tests: matching against a naive model, queue merging, and cache correctness
//! under concurrent mutation.

use super::*;
use proptest::prelude::*;

/// Sorted ids of everything matched, queue members tagged with their group.
fn flatten(result: &MatchResult<u32>) -> Vec<(Option<Vec<u8>>, u32)> {
    let mut out: Vec<_> = result.plain.iter().map(|&id| (None, id)).collect();
    for group in &result.queues {
        out.extend(
            group
                .members
                .iter()
                .map(|&id| (Some(group.name.to_vec()), id)),
        );
    }
    out.sort();
    out
}

fn check(subs: &[(&str, Option<&str>)], subject: &str, expected_ids: &[u32]) {
    let sublist = Sublist::new();
    for (id, (filter, queue)) in subs.iter().enumerate() {
        sublist
            .insert(filter.as_bytes(), queue.map(str::as_bytes), id as u32)
            .unwrap();
    }
    let (result, _) = sublist.match_subject(subject.as_bytes());
    let mut got: Vec<u32> = flatten(&result).into_iter().map(|(_, id)| id).collect();
    got.sort();
    assert_eq!(got, expected_ids, "subject {subject}");
}

#[test]
fn literal_and_wildcard_matches() {
    let subs = [
        ("foo", None),
        ("foo.bar", None),
        ("foo.*", None),
        ("foo.>", None),
        (">", None),
        ("*.bar", None),
        ("*", None),
    ];
    check(&subs, "foo", &[0, 4, 6]);
    check(&subs, "foo.bar", &[1, 2, 3, 4, 5]);
    check(&subs, "foo.bar.baz", &[3, 4]);
    check(&subs, "baz.bar", &[4, 5]);
    check(&subs, "nothing.here.at.all", &[4]);
}

#[test]
fn queue_groups_merge_by_name_across_filters() {
    let sublist = Sublist::new();
    sublist.insert(b"foo.bar", Some(b"q"), 1).unwrap();
    sublist.insert(b"foo.*", Some(b"q"), 2).unwrap();
    sublist.insert(b"foo.>", Some(b"other"), 3).unwrap();
    sublist.insert(b"foo.bar", None, 4).unwrap();
    let (result, _) = sublist.match_subject(b"foo.bar");
    assert_eq!(result.plain, vec![4]);
    assert_eq!(result.queues.len(), 2);
    let q = result.queues.iter().find(|g| &*g.name == b"q").unwrap();
    let mut members = q.members.clone();
    members.sort();
    assert_eq!(members, vec![1, 2]);
}

#[test]
fn removal_prunes_and_bumps_generation() {
    let sublist = Sublist::new();
    sublist.insert(b"a.b.c", None, 1).unwrap();
    sublist.insert(b"a.b.c", Some(b"q"), 2).unwrap();
    let before = sublist.generation();
    assert!(sublist.remove(b"a.b.c", None, &1));
    assert!(!sublist.remove(b"a.b.c", None, &1));
    assert!(sublist.remove(b"a.b.c", Some(b"q"), &2));
    assert!(sublist.generation() > before);
    assert_eq!(sublist.count(), 0);
    assert!(sublist.root.read().literal_is_empty());
}

#[test]
fn invalid_filters_are_refused() {
    let sublist = Sublist::new();
    for bad in ["", "foo..bar", "foo.>.bar", "foo bar", ".foo"] {
        assert_eq!(
            sublist.insert(bad.as_bytes(), None, 1),
            Err(SublistError::InvalidSubject)
        );
    }
}

fn filter_strategy() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("c".to_string()),
        Just("*".to_string())
    ];
    (prop::collection::vec(token, 1..4), any::<bool>()).prop_map(|(mut tokens, tail)| {
        if tail {
            tokens.push(">".to_string());
        }
        tokens.join(".")
    })
}

fn subject_strategy() -> impl Strategy<Value = String> {
    prop::collection::vec(prop_oneof![Just("a"), Just("b"), Just("c")], 1..5)
        .prop_map(|tokens| tokens.join("."))
}

proptest! {
    #[test]
    fn trie_agrees_with_naive_matching(
        filters in prop::collection::vec((filter_strategy(), any::<bool>()), 0..30),
        removals in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        subjects in prop::collection::vec(subject_strategy(), 1..10),
    ) {
        let sublist = Sublist::new();
        let mut live: Vec<(String, bool, u32)> = Vec::new();
        for (id, (filter, queued)) in filters.iter().enumerate() {
            let queue: Option<&[u8]> = if *queued { Some(b"q") } else { None };
            sublist.insert(filter.as_bytes(), queue, id as u32).unwrap();
            live.push((filter.clone(), *queued, id as u32));
        }
        let mut cache = MatchCache::new(4);
        for index in removals {
            if live.is_empty() { break; }
            let (filter, queued, id) = live.remove(index.index(live.len()));
            let queue: Option<&[u8]> = if queued { Some(b"q") } else { None };
            prop_assert!(sublist.remove(filter.as_bytes(), queue, &id));
            for subject in &subjects {
                let mut expected: Vec<u32> = live
                    .iter()
                    .filter(|(f, _, _)| natrium_subject::matches(f.as_bytes(), subject.as_bytes()))
                    .map(|(_, _, id)| *id)
                    .collect();
                expected.sort();
                let result = cache.lookup(&sublist, subject.as_bytes());
                let mut got: Vec<u32> = flatten(&result).into_iter().map(|(_, id)| id).collect();
                got.sort();
                prop_assert_eq!(got, expected);
            }
        }
    }
}

/// Each thread's own completed insert or remove must be visible through its own cache,
/// however the other threads' mutations interleave.
#[test]
fn cache_never_serves_a_stale_answer() {
    let sublist: Arc<Sublist<u32>> = Arc::new(Sublist::new());
    let threads: Vec<_> = (0..4u32)
        .map(|thread| {
            let sublist = Arc::clone(&sublist);
            std::thread::spawn(move || {
                let mut cache = MatchCache::new(64);
                let subject = b"shared.subject";
                for round in 0..2_000u32 {
                    let id = thread * 1_000_000 + round;
                    let filter: &[u8] = if round % 2 == 0 {
                        b"shared.*"
                    } else {
                        b"shared.>"
                    };
                    sublist.insert(filter, None, id).unwrap();
                    assert!(cache.lookup(&sublist, subject).plain.contains(&id));
                    assert!(sublist.remove(filter, None, &id));
                    assert!(!cache.lookup(&sublist, subject).plain.contains(&id));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(sublist.count(), 0);
}

/// The lifetime counters `/subsz` reports: inserts, removes (single and batched) and walks.
#[test]
fn counters_track_mutations_and_walks() {
    let sublist: Sublist<u32> = Sublist::new();
    for id in 0..3 {
        sublist.insert(b"a.b", None, id).unwrap();
    }
    assert!(sublist.insert(b"a..b", None, 9).is_err());
    assert!(sublist.remove(b"a.b", None, &0));
    assert!(!sublist.remove(b"a.b", None, &0));
    assert_eq!(
        sublist.remove_batch([(&b"a.b"[..], None, &1), (&b"a.b"[..], None, &2)]),
        2
    );
    sublist.match_subject(b"a.b");
    let mut cache = MatchCache::new(4);
    cache.lookup(&sublist, b"a.b");
    cache.lookup(&sublist, b"a.b");
    assert_eq!(
        sublist.counters(),
        SublistCounters {
            count: 0,
            inserts: 3,
            removes: 3,
            matches: 2,
        }
    );
}

#[test]
fn has_interest_agrees_with_a_full_match() {
    let sublist: Sublist<u32> = Sublist::new();
    let filters: [(&[u8], Option<&[u8]>); 6] = [
        (b"orders.new", None),
        (b"orders.*.eu", None),
        (b"audit.>", None),
        (b"jobs.*", Some(b"workers")),
        (b"a.b.c.d", None),
        (b"*.x", None),
    ];
    for (n, (filter, queue)) in filters.iter().enumerate() {
        sublist.insert(filter, *queue, n as u32).unwrap();
    }
    let subjects: [&[u8]; 14] = [
        b"orders.new",
        b"orders.old",
        b"orders.1.eu",
        b"orders.1.us",
        b"audit",
        b"audit.x",
        b"audit.x.y",
        b"jobs.1",
        b"jobs.1.2",
        b"a.b.c",
        b"a.b.c.d",
        b"q.x",
        b"x",
        b"nothing.here",
    ];
    for subject in subjects {
        let matched = !sublist.match_subject(subject).0.is_empty();
        assert_eq!(
            sublist.has_interest(subject),
            matched,
            "{}",
            String::from_utf8_lossy(subject)
        );
    }
    // Removing the only interest in a subject ends it.
    assert!(sublist.remove(b"jobs.*", Some(b"workers"), &3));
    assert!(!sublist.has_interest(b"jobs.1"));
}

/// A match that ends at one node shares that node's result until the node changes; matches
/// over several nodes and mutations in between always see the current items.
#[test]
fn single_node_results_are_shared_until_the_node_changes() {
    let sublist = Sublist::new();
    sublist.insert(b"acks.>", None, 1).unwrap();
    let (first, _) = sublist.match_subject(b"acks.s.c.1");
    let (again, _) = sublist.match_subject(b"acks.s.c.2");
    assert!(Arc::ptr_eq(&first, &again), "one node: one shared result");
    assert_eq!(first.plain, [1]);

    sublist.insert(b"acks.>", Some(b"q"), 2).unwrap();
    let (grown, _) = sublist.match_subject(b"acks.s.c.3");
    assert_eq!(flatten(&grown), [(None, 1), (Some(b"q".to_vec()), 2)]);
    assert_eq!(
        first.plain,
        [1],
        "results already handed out are not changed"
    );

    sublist.insert(b"acks.s.*.*", None, 3).unwrap();
    let (merged, _) = sublist.match_subject(b"acks.s.c.4");
    assert_eq!(
        flatten(&merged),
        [(None, 1), (None, 3), (Some(b"q".to_vec()), 2)]
    );

    assert!(sublist.remove(b"acks.>", None, &1));
    assert!(sublist.remove(b"acks.>", Some(b"q"), &2));
    let (left, _) = sublist.match_subject(b"acks.s.c.5");
    assert_eq!(flatten(&left), [(None, 3)]);
    let (none, _) = sublist.match_subject(b"other");
    assert!(none.is_empty());
}
