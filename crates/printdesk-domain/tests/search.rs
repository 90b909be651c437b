//! Text search and text order, without a store: the folding, the matching rule every store
//! applies, the index terms and ranges it narrows candidates with, and the collation keys.

use std::{cmp::Ordering, collections::BTreeSet};

use printdesk_domain::{
    IndexedJob, JobId, JobSort, SearchIndex,
    search::{SEARCH_MAX_CHARS, SearchDocument, SearchQuery, collate, fold, sort_key},
};

fn doc(name: &str) -> SearchDocument {
    SearchDocument::of_fields([Some(name), None, None, None])
}

fn q(text: &str) -> SearchQuery {
    SearchQuery::parse(text)
        .unwrap()
        .expect("a non-blank query")
}

/// Whether `query` finds a job named `name`, checked the way every store decides (patterns)
/// and, where the query is exact by the index, by the index terms too.
fn finds(query: &str, name: &str) -> bool {
    let (query, document) = (q(query), doc(name));
    let by_patterns = query.matches(&document);
    let terms = document.terms();
    let by_index = query
        .index_ranges()
        .iter()
        .all(|r| terms.iter().any(|t| r.contains(t)));
    // The index never loses a match ...
    assert!(!by_patterns || by_index, "the index misses a match");
    // ... and where it claims to be exact, it is.
    if query.index_is_exact() && !query.index_ranges().is_empty() {
        assert_eq!(by_index, by_patterns, "the index is not exact");
    }
    // The in-memory index the SQL stores answer from agrees, beside a job that matches
    // nothing of the table.
    let (id, other) = (JobId::generate(), JobId::generate());
    let mut index = SearchIndex::new();
    index.insert(indexed(other, doc("\u{2603}"), 0));
    index.insert(indexed(id, document, 1));
    let hits = index.search(&query);
    assert_eq!(hits.contains(id), by_patterns, "the search index disagrees");
    assert!(!hits.contains(other) || query.matches(&doc("\u{2603}")));
    by_patterns
}

#[test]
fn folding_ignores_case_accents_and_compatibility_forms() {
    assert_eq!(fold("GEHÄUSE FÜR ÖLPUMPE"), "gehause fur olpumpe");
    assert_eq!(fold("Résumé"), "resume");
    assert_eq!(fold("Straße"), "strasse");
    assert_eq!(fold("ΔΈΛΤΑ"), "δελτα");
    assert_eq!(fold("δέλτα"), "δελτα");
    assert_eq!(fold("ΟΔΟΣ"), fold("οδος"), "final sigma");
    assert_eq!(fold("МОСКВА"), "москва");
    assert_eq!(fold("Ёлка"), "елка");
    assert_eq!(fold("ﬁle²"), "file2");
    assert_eq!(fold("ＡＢＣ"), "abc", "full-width letters");
    assert_eq!(fold("İSTANBUL"), "istanbul");
    assert_eq!(fold("ışık"), "isik");
    assert_eq!(fold("IŞIK"), "isik");
    assert_eq!(fold("東京タワー"), "東京タワー");
    assert_eq!(fold("a\u{7}b"), "ab", "control characters are dropped");
}

#[test]
fn folding_is_idempotent() {
    for text in [
        "GEHÄUSE",
        "İstanbul",
        "Straße",
        "ΔΈΛΤΑΣ",
        "ﬃ",
        "Ǆemal",
        "ŉ",
        "東京",
    ] {
        let once = fold(text);
        assert_eq!(fold(&once), once, "{text}");
    }
}

#[test]
fn every_script_matches_in_upper_lower_accented_and_plain_case() {
    let cases = [
        (
            "GEHÄUSE FÜR ÖLPUMPE",
            ["GEHÄUSE", "gehäuse", "ölpumpe", "für"],
        ),
        ("Müller Druck", ["muller", "MÜLLER", "Muller", "müll"]),
        ("Résumé Émile", ["resume", "RÉSUMÉ", "émile", "EMILE"]),
        ("ΔΈΛΤΑ", ["δέλτα", "δελτα", "ΔΕΛΤΑ", "Δέλ"]),
        ("МОСКВА", ["москва", "Москва", "моск", "МОСКВА"]),
        ("IŞIK İstanbul", ["ışık", "isik", "istanbul", "İSTANBUL"]),
        ("東京タワー模型", ["東京", "タワー", "模型", "京"]),
    ];
    for (name, queries) in cases {
        for query in queries {
            assert!(finds(query, name), "{query:?} finds {name:?}");
        }
    }
}

#[test]
fn long_words_match_anywhere_short_ones_at_word_starts() {
    assert!(finds("pumpe", "Ölpumpe"));
    assert!(finds("lpu", "Ölpumpe"));
    assert!(finds("öl", "Ölpumpe"));
    assert!(!finds("pu", "Ölpumpe"), "two characters inside a word");
    assert!(finds("fü", "Gehäuse für"));
    assert!(!finds("ür", "Gehäuse für"));
    assert!(finds("v", "Benchy_v2"), "a word starts after punctuation");
    assert!(finds("v2", "Benchy_v2"));
    assert!(finds("y_v", "Benchy_v2"));
    assert!(!finds("y v", "Benchy_v2x"));
}

#[test]
fn every_word_is_required_in_any_field() {
    let document = SearchDocument::of_fields([
        Some("Bracket"),
        Some("Müller GmbH"),
        Some("PETG, 40% infill"),
        Some("bracket-7.3mf"),
    ]);
    assert!(q("müller bracket petg").matches(&document));
    assert!(q("3MF muller").matches(&document));
    assert!(!q("müller vase").matches(&document));
    // A word does not span two fields.
    assert!(!q("gmbhpetg").matches(&document));
    assert!(!q("bracketmüller").matches(&document));
}

#[test]
fn syntax_characters_are_plain_text() {
    let document = doc(r#"50% off_now a\b "quoted" star* x-y AND NEAR(this)"#);
    for query in [
        "50%",
        "%",
        "off_now",
        "_",
        r"a\b",
        r"\",
        "\"quoted\"",
        "\"",
        "star*",
        "*",
        "x-y",
        "-",
        "AND",
        "and",
        "NEAR(",
        "near(this)",
    ] {
        assert!(q(query).matches(&document), "{query:?}");
    }
    let other = doc("plain name");
    for query in [
        "%", "_", r"\", "\"", "*", "-", "AND", "NEAR(", "%plain", "pl_in", "p%",
    ] {
        assert!(
            !q(query).matches(&other),
            "{query:?} is no wildcard or operator"
        );
    }
}

#[test]
fn query_length_is_at_most_200_characters() {
    let limit = "ä".repeat(SEARCH_MAX_CHARS);
    assert!(SearchQuery::parse(&limit).unwrap().is_some());
    let over = "ä".repeat(SEARCH_MAX_CHARS + 1);
    let violation = SearchQuery::parse(&over).unwrap_err();
    assert_eq!(violation.field.as_str(), "q");
    assert!(violation.message.contains("200"), "{}", violation.message);
    assert!(SearchQuery::parse("  \t ").unwrap().is_none());
    assert_eq!(q("  benchy  ").as_str(), "benchy");
}

#[test]
fn the_index_narrows_to_candidates_that_the_patterns_decide() {
    // One word of letters: the index alone decides.
    assert!(q("benchy").index_is_exact());
    assert!(q("fü").index_is_exact());
    // Punctuation, CJK or a word longer than an index term: the document check decides.
    assert!(!q("re-sliced").index_is_exact());
    assert!(!q("東京").index_is_exact());
    assert!(!q("abcdefghijklmnopqrstuvwxyz").index_is_exact());
    assert!(finds(
        "abcdefghijklmnopqrstuvwxyz",
        "xabcdefghijklmnopqrstuvwxyzx"
    ));
    assert!(!finds(
        "abcdefghijklmnopqrstuvwxyz",
        "abcdefghijklmnopqrstuvwxyQ"
    ));
    // Nothing the index could look up: every job is a candidate.
    assert!(q("%").index_ranges().is_empty());
    assert!(!finds("re-sliced", "resliced"));
    assert!(finds("re-sliced", "Re-sliced at 0.2 mm"));
    assert!(finds("0.2", "Re-sliced at 0.2 mm"));
}

#[test]
fn text_sorts_by_the_unicode_collation_algorithm() {
    let mut names = vec![
        "Zylinder",
        "Ölwanne",
        "aufkleber",
        "Äpfel",
        "apfel",
        "Éclair",
        "eclair",
        "zebra",
        "Ärger",
    ];
    names.sort_by_key(|n| sort_key(n));
    assert_eq!(
        names,
        [
            "apfel",
            "Äpfel",
            "Ärger",
            "aufkleber",
            "eclair",
            "Éclair",
            "Ölwanne",
            "zebra",
            "Zylinder"
        ]
    );
    // The keys order as the collator compares.
    for a in &names {
        for b in &names {
            assert_eq!(sort_key(a).cmp(&sort_key(b)), collate(a, b), "{a} {b}");
        }
    }
    assert_eq!(
        collate("a", "A"),
        Ordering::Less,
        "lower case first, as Intl.Collator"
    );
}

/// The rules the page applies to live updates (frontend/js/text-order.js) are the server's:
/// one fixture, checked here and by the page's own test (frontend/tests/text-order.test.mjs).
#[test]
fn the_shared_fixture_holds_for_the_server() {
    let fixture: serde_json::Value = serde_json::from_str(include_str!(
        "../../../frontend/tests/fixtures/text-rules.json"
    ))
    .unwrap();
    let field = |job: &serde_json::Value, name: &str| job[name].as_str().map(str::to_owned);
    let jobs: Vec<(String, SearchDocument)> = fixture["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| {
            let fields = ["job_name", "customer_name", "notes", "file_name"].map(|f| field(job, f));
            let document = SearchDocument::of_fields([
                fields[0].as_deref(),
                fields[1].as_deref(),
                fields[2].as_deref(),
                fields[3].as_deref(),
            ]);
            (fields[0].clone().unwrap(), document)
        })
        .collect();
    for case in fixture["search"].as_array().unwrap() {
        let query = case["query"].as_str().unwrap();
        let found: Vec<&str> = jobs
            .iter()
            .filter(|(_, document)| q(query).matches(document))
            .map(|(name, _)| name.as_str())
            .collect();
        let expected: Vec<&str> = case["finds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(found, expected, "{query:?}");
    }
    let order: Vec<&str> = fixture["order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut sorted = order.clone();
    sorted.reverse();
    sorted.sort_by_key(|n| sort_key(n));
    assert_eq!(sorted, order);
}

/// What the index holds of a job with `document`, created and updated `minute` minutes
/// after 1970.
fn indexed(id: JobId, document: SearchDocument, minute: i64) -> IndexedJob {
    let at = time::OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(minute);
    IndexedJob {
        id,
        document,
        created_at: at,
        updated_at: at,
    }
}

/// Documents for the index test: every script of the table, shared words, numbers whose
/// prefixes are many terms, and punctuation.
const DOCUMENTS: [[Option<&str>; 4]; 12] = [
    [
        Some("GEHÄUSE FÜR ÖLPUMPE"),
        Some("Müller GmbH"),
        None,
        Some("gehaeuse.3mf"),
    ],
    [
        Some("Benchy v3 #12345"),
        Some("Acme Robotics"),
        Some("re-sliced at 0.2 mm"),
        Some("benchy-12345.3mf"),
    ],
    [Some("Benchy v1 #123"), None, None, Some("benchy-123.3mf")],
    [
        Some("bracket"),
        Some("Bäckerei Köhler"),
        Some("Ölwanne für Kunde Müller, Größe M"),
        None,
    ],
    [Some("ΔΈΛΤΑ"), Some("Москва"), None, None],
    [Some("Résumé holder"), None, Some("PETG, 40% infill"), None],
    [Some("IŞIK kapağı"), Some("İstanbul"), None, None],
    [
        Some("東京タワー"),
        None,
        Some("second attempt after a spaghetti failure"),
        None,
    ],
    [
        Some("100% \"quoted\" a_b\\c"),
        None,
        None,
        Some("x-y.gcode"),
    ],
    [Some("supercalifragilisticexpialidocious"), None, None, None],
    [
        Some("gear v2 #54321"),
        Some("Hooli"),
        Some("use the textured plate"),
        Some("gear-54321.3mf"),
    ],
    [Some("vase"), Some("Hooli"), None, Some("vase.stl")],
];

const QUERIES: [&str; 24] = [
    "benchy",
    "BENCHY acme",
    "muller",
    "müller ölwanne größe",
    "re-sliced 0.2 mm",
    "12",
    "123",
    "1234",
    "12345",
    "fü",
    "ür",
    "δέλτα",
    "москва",
    "resume",
    "isik",
    "istanbul",
    "東京",
    "タワー",
    "100%",
    "\"quoted\"",
    "a_b\\c",
    "califragilistic",
    "vase hooli spaghetti",
    "%",
];

/// The ids of the jobs `query` finds among `docs` by checking each document.
fn scanned(docs: &[(JobId, SearchDocument)], query: &SearchQuery) -> Vec<JobId> {
    let mut ids: Vec<JobId> = docs
        .iter()
        .filter(|(_, d)| query.matches(d))
        .map(|(id, _)| *id)
        .collect();
    ids.sort();
    ids
}

fn searched(index: &SearchIndex, query: &SearchQuery) -> Vec<JobId> {
    let hits = index.search(query);
    let mut ids: Vec<JobId> = hits.ids().collect();
    ids.sort();
    assert_eq!(ids.len(), hits.len());
    for id in &ids {
        assert!(hits.contains(*id));
    }
    ids
}

#[test]
fn the_search_index_finds_what_checking_every_document_finds_through_edits_and_removals() {
    let mut docs: Vec<(JobId, SearchDocument)> = DOCUMENTS
        .iter()
        .map(|fields| (JobId::generate(), SearchDocument::of_fields(*fields)))
        .collect();
    let mut index = SearchIndex::new();
    for (minute, (id, d)) in docs.iter().enumerate() {
        index.insert(indexed(*id, d.clone(), minute as i64));
    }
    let check = |index: &SearchIndex, docs: &[(JobId, SearchDocument)], stage: &str| {
        assert_eq!(index.len(), docs.len());
        for text in QUERIES {
            let query = q(text);
            assert_eq!(
                searched(index, &query),
                scanned(docs, &query),
                "{stage}: `{text}`"
            );
        }
    };
    check(&index, &docs, "built");
    assert!(
        !index.search(&q("benchy")).is_empty(),
        "the table finds something"
    );

    // Edits: a word replaced, a field cleared, the same document again (nothing changes).
    for (k, fields) in [
        (
            1,
            [
                Some("Benchy v4 #12346"),
                Some("Globex"),
                None,
                Some("benchy-12346.3mf"),
            ],
        ),
        (3, [Some("bracket"), None, None, None]),
        (5, DOCUMENTS[5]),
    ] {
        docs[k].1 = SearchDocument::of_fields(fields);
        index.insert(indexed(docs[k].0, docs[k].1.clone(), k as i64));
    }
    check(&index, &docs, "edited");
    assert!(index.search(&q("12345")).len() < scanned(&docs, &q("benchy")).len() + 1);

    // Removals, and a removed job that comes back.
    let (gone, _) = docs.remove(0);
    index.remove(gone);
    index.remove(gone);
    assert!(!index.contains(gone));
    check(&index, &docs, "removed");
    let back = SearchDocument::of_fields([Some("Gehäuse neu"), None, None, None]);
    index.insert(indexed(gone, back.clone(), 99));
    docs.push((gone, back));
    check(&index, &docs, "back");
    assert_eq!(index.search(&q("gehause")).len(), 1);
}

#[test]
fn document_terms_are_slices_of_the_document_sorted_once_each() {
    for fields in DOCUMENTS {
        let document = SearchDocument::of_fields(fields);
        let slices = document.term_slices();
        assert!(slices.windows(2).all(|w| w[0] < w[1]), "sorted, none twice");
        assert_eq!(
            slices
                .iter()
                .map(|t| (*t).to_owned())
                .collect::<BTreeSet<_>>(),
            document.terms()
        );
        assert!(slices.iter().all(|t| document.as_str().contains(t)));
    }
    let terms = SearchDocument::of_fields([Some("Benchy v3"), None, None, None]).terms();
    let expected: BTreeSet<String> = ["\u{1}be", "benchy", "enchy", "nchy", "chy", "\u{1}v3"]
        .map(String::from)
        .into();
    assert_eq!(terms, expected);
}

#[test]
fn a_page_of_hits_in_time_order_is_the_sorted_slice_and_other_keys_are_left_to_the_store() {
    let mut index = SearchIndex::new();
    let mut jobs: Vec<(JobId, i64, i64)> = Vec::new();
    for i in 0..40_i64 {
        let id = JobId::generate();
        // Creation times with ties (every 3 jobs share one), updates in another order.
        let (created, updated) = (i / 3, (i * 7) % 40);
        let name = if i % 2 == 0 { "Benchy" } else { "Gear" };
        let at = |m: i64| time::OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(m);
        index.insert(IndexedJob {
            id,
            document: doc(&format!("{name} {i}")),
            created_at: at(created),
            updated_at: at(updated),
        });
        if i % 2 == 0 {
            jobs.push((id, created, updated));
        }
    }
    // A status change: new times, same text.
    let (id, created, _) = jobs[3];
    assert!(index.update_times(
        id,
        time::OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(created),
        time::OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(1000),
    ));
    jobs[3].2 = 1000;
    let hits = index.search(&q("benchy"));
    assert_eq!(hits.len(), 20);
    for sort in [
        "created_at:desc",
        "created_at:asc",
        "updated_at:desc",
        "updated_at:asc",
    ] {
        let sort: JobSort = sort.parse().unwrap();
        let mut expected = jobs.clone();
        expected.sort_by(|a, b| {
            let (ka, kb) = if sort.to_string().starts_with("created") {
                ((a.1, a.0), (b.1, b.0))
            } else {
                ((a.2, a.0), (b.2, b.0))
            };
            if sort.to_string().ends_with("desc") {
                kb.cmp(&ka)
            } else {
                ka.cmp(&kb)
            }
        });
        let expected: Vec<JobId> = expected.iter().map(|j| j.0).collect();
        for (offset, limit) in [(0, 5), (3, 4), (17, 5), (19, 1), (20, 5), (0, 50)] {
            let to = (offset + limit).min(expected.len());
            let from = offset.min(to);
            assert_eq!(
                hits.page(sort, offset, limit),
                Some(expected[from..to].to_vec()),
                "{sort} {offset} {limit}"
            );
        }
    }
    assert_eq!(hits.page("job_name:asc".parse().unwrap(), 0, 5), None);
}

#[test]
fn intersections_of_a_rare_word_with_a_common_one_find_each_job_once() {
    let mut index = SearchIndex::new();
    let mut docs = Vec::new();
    for i in 0..300_i64 {
        let name = match i % 100 {
            7 => format!("common rare {i}"),
            13 => format!("rare {i}"),
            _ => format!("common widget {i}"),
        };
        let id = JobId::generate();
        let document = doc(&name);
        index.insert(indexed(id, document.clone(), i));
        docs.push((id, document));
    }
    // 3 rare beside 297 common (one list far longer), and two lists of a size.
    for (text, expected) in [
        ("rare common", 3),
        ("common rare", 3),
        ("common widget", 294),
        ("rare", 6),
    ] {
        let query = q(text);
        assert_eq!(searched(&index, &query), scanned(&docs, &query), "{text}");
        assert_eq!(index.search(&query).len(), expected, "{text}");
    }
}

#[test]
fn a_document_with_fields_replaced_is_the_document_of_the_new_fields() {
    for (k, fields) in DOCUMENTS.iter().enumerate() {
        let before = SearchDocument::of_fields(*fields);
        let other = DOCUMENTS[(k + 5) % DOCUMENTS.len()];
        for mask in 0..16_u32 {
            let mut replaced = [None; 4];
            let mut expected = *fields;
            for i in 0..4 {
                if mask & (1 << i) != 0 {
                    replaced[i] = Some(other[i]);
                    expected[i] = other[i];
                }
            }
            assert_eq!(
                before.with_fields(replaced),
                SearchDocument::of_fields(expected),
                "document {k}, fields {mask:04b}"
            );
        }
    }
}
