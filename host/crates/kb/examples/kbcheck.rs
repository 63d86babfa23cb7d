//! Prints the check results for articles or directories (a development aid).
use certify_kb::{Article, BundleFacts, DocRules, check_article, find_articles};

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.first().is_some_and(|a| a == "-v");
    if verbose {
        args.remove(0);
    }
    let root = std::env::var("KB_ROOT").ok().map(Into::into);
    let bundle = BundleFacts {
        root,
        ..BundleFacts::default()
    };
    for a in &args {
        for p in find_articles(a.as_ref()).expect("read") {
            let art = Article::read(&p).expect("read");
            let r = check_article(&art, art.audience(), Some(&bundle), &DocRules::default());
            let fails: Vec<_> = r
                .failures()
                .filter(|c| c.id != "kb.image" && c.id != "kb.link")
                .map(|c| format!("{}@{}", c.id, c.line))
                .collect();
            let steps: Vec<_> = art
                .steps
                .iter()
                .map(|s| format!("{}:{}", s.line, s.label()))
                .collect();
            println!("{} [{:?}] fails={:?}", p.display(), r.audience, fails);
            if verbose {
                for s in steps {
                    println!("    step {s}");
                }
                for c in r.failures() {
                    println!(
                        "    FAIL {}:{} {} — {}",
                        c.id,
                        c.line,
                        c.message,
                        c.hint.clone().unwrap_or_default()
                    );
                }
            }
        }
    }
}
