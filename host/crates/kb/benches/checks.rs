//! Structure and content checks over 1,000 articles (the 40-article corpus repeated):
//! parse + every check, links included. Target: ≤ 1 s on the 2-core CI machines.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use certify_kb::{Article, BundleFacts, DocRules, check_article, find_articles};
use criterion::{Criterion, criterion_group, criterion_main};

fn corpus() -> (PathBuf, Vec<(PathBuf, String)>) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/corpus/kb");
    let texts = find_articles(&root)
        .expect("the corpus is readable")
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "SOURCE-NOTE.md"))
        .map(|p| {
            let t = std::fs::read_to_string(&p).expect("readable");
            (p, t)
        })
        .collect();
    (root, texts)
}

fn check_thousand(root: &Path, texts: &[(PathBuf, String)]) -> usize {
    let bundle = BundleFacts {
        root: Some(root.to_path_buf()),
        ..BundleFacts::default()
    };
    let rules = DocRules::default();
    let mut failures = 0;
    for (p, t) in texts.iter().cycle().take(1000) {
        let a = Article::parse(p, t.as_str());
        let r = check_article(&a, a.audience(), Some(&bundle), &rules);
        failures += r.failures().count();
    }
    failures
}

fn bench(c: &mut Criterion) {
    let (root, texts) = corpus();
    // The median of a few plain runs, printed for the record (criterion's own estimate
    // follows).
    let mut times: Vec<Duration> = (0..7)
        .map(|_| {
            let t = Instant::now();
            black_box(check_thousand(&root, &texts));
            t.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "kb checks, 1,000 articles: median {:?} over {} runs",
        times[times.len() / 2],
        times.len()
    );
    let mut g = c.benchmark_group("kb");
    g.sample_size(10);
    g.bench_function("check 1000 articles", |b| {
        b.iter(|| check_thousand(&root, &texts))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
