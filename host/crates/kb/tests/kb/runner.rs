//! The step runner: state between steps, time limits, a clean environment, bounded and
//! masked output, and no silent passes.

use std::time::{Duration, Instant};

use certify_kb::{
    Article, ArticleRun, Bindings, DocRules, FailureKind, RunContext, RunOptions, StdHttpClient,
    StepStatus, run_article,
};

fn run_with(text: &str, b: &Bindings, opts: &RunOptions) -> ArticleRun {
    let a = Article::parse("t.md", format!("{{{{{{ \"title\": \"T\" }}}}}}\n{text}"));
    let rules = DocRules::default();
    let ctx = RunContext {
        bindings: b,
        options: opts,
        rules: &rules,
        library: None,
        http: &StdHttpClient,
    };
    run_article(&a, &ctx).unwrap()
}

fn run(text: &str) -> ArticleRun {
    run_with(text, &Bindings::new(), &RunOptions::default())
}

fn statuses(r: &ArticleRun) -> Vec<(usize, &StepStatus)> {
    r.steps.iter().map(|s| (s.line, &s.status)).collect()
}

#[test]
fn environment_variables_functions_and_cwd_carry_from_step_to_step() {
    let r = run(
        "1. One\n\n   ```bash\n   export GREETING=hello\n   NAME=world\n   greet() { echo \"$GREETING, $1\"; }\n   mkdir -p sub/dir && cd sub/dir\n   ```\n\n2. Two\n\n   ```console\n   $ greet \"$NAME\"\n   hello, world\n   $ pwd\n   [..]/sub/dir\n   ```\n",
    );
    assert!(r.passed(), "{:#?}", r.steps);
    assert_eq!(r.executed, 3);
}

#[test]
fn a_failing_command_fails_its_step_with_the_exit_code() {
    let r = run(
        "```bash\necho before\nfalse\necho after\n```\n\n<!-- certify: exit 3 -->\n```bash\nexit 3\n```\n",
    );
    let st = statuses(&r);
    assert!(
        matches!(
            st[0],
            (
                2,
                StepStatus::Failed {
                    kind: FailureKind::Exit,
                    ..
                }
            )
        ),
        "{st:?}"
    );
    assert_eq!(r.steps[0].output.trim(), "before");
    assert_eq!(r.steps[0].exit_code, Some(1));
    assert_eq!(st[1], (9, &StepStatus::Passed));
    assert!(!r.passed());
}

#[test]
fn steps_and_articles_have_time_limits() {
    let started = Instant::now();
    let r = run(
        "<!-- certify: timeout 300ms -->\n```bash\nsleep 30 & wait\n```\n\n```bash\necho still running\n```\n",
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(matches!(
        r.steps[0].status,
        StepStatus::Failed {
            kind: FailureKind::Timeout,
            ..
        }
    ));
    assert_eq!(r.steps[1].status, StepStatus::Passed);

    let opts = RunOptions {
        article_timeout: Duration::from_millis(400),
        ..RunOptions::default()
    };
    let r = run_with(
        "```bash\nsleep 5\n```\n\n```bash\necho never\n```\n",
        &Bindings::new(),
        &opts,
    );
    assert!(matches!(
        r.steps[0].status,
        StepStatus::Failed {
            kind: FailureKind::Timeout,
            ..
        }
    ));
    assert!(
        matches!(&r.steps[1].status, StepStatus::Failed { kind: FailureKind::Timeout, message } if message.contains("not run")),
        "{:?}",
        r.steps[1].status
    );
}

#[test]
fn the_environment_is_clean_and_home_is_a_throwaway_directory() {
    // SAFETY: the variable is only read by the child processes of this test's steps.
    unsafe { std::env::set_var("CLC_V2_API_PASSWD", "host-secret") };
    let mut b = Bindings::new();
    b.insert("server.WEB.internal_ip", "10.0.0.5");
    let r = run_with(
        "```console\n$ echo \"[${CLC_V2_API_PASSWD:-unset}]\"\n[unset]\n$ test \"$PWD\" = \"$HOME\" && ls -A | wc -l\n0\n$ echo $CERTIFY_SERVER_WEB_INTERNAL_IP $LANG\n10.0.0.5 C.UTF-8\n```\n",
        &b,
        &RunOptions::default(),
    );
    assert!(r.passed(), "{:#?}", r.steps);
}

#[test]
fn secrets_are_masked_and_output_is_bounded() {
    let mut b = Bindings::new();
    b.insert_secret("secret.ApiKey", "sk-live-1234567890");
    let opts = RunOptions {
        max_output_bytes: 100,
        ..RunOptions::default()
    };
    let r = run_with(
        "```bash\necho \"key={{secret.ApiKey}}\"\n```\n\n```bash\nfor i in $(seq 1 1000); do echo line $i; done\n```\n",
        &b,
        &opts,
    );
    assert_eq!(r.steps[0].output.trim(), "key=********");
    assert!(
        r.steps[0].command.contains("{{secret.ApiKey}}"),
        "the report shows the command as written"
    );
    assert!(r.steps[1].output_truncated);
    assert!(r.steps[1].output.len() <= 100);
    assert!(r.passed());
}

#[test]
fn an_unbound_placeholder_fails_at_its_line_and_nothing_runs_with_a_hole() {
    let r = run(
        "```bash\ntouch marker\n```\n\n```bash\necho ok\nrm -rf \"/tmp/{{var.Missing}}\"\n```\n\n```console\n$ ls\nmarker\n```\n",
    );
    let st = statuses(&r);
    assert_eq!(st[0].1, &StepStatus::Passed);
    match st[1] {
        (
            6,
            StepStatus::Failed {
                kind: FailureKind::Unbound,
                message,
            },
        ) => {
            assert!(message.contains("{{var.Missing}} at line 8"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(r.steps[1].output.is_empty(), "not run");
    assert_eq!(st[2].1, &StepStatus::Passed);
}

#[test]
fn no_silent_passes() {
    // Nothing executable at all: the article fails.
    let r = run("Just prose.\n\n```yaml\na: 1\n```\n");
    assert_eq!(r.total, 0);
    assert!(!r.passed());
    assert!(
        r.verdict.message.contains("no steps found"),
        "{}",
        r.verdict.message
    );
    // Only blocks we cannot run: reported as such, and the article fails.
    let r = run("```powershell\nGet-Service\n```\n\n```\nplain\n```\n");
    assert_eq!(r.total, 2);
    assert!(
        r.steps
            .iter()
            .all(|s| matches!(s.status, StepStatus::NotExecutable { .. }))
    );
    assert!(!r.passed());
    assert!(r.verdict.message.contains("no step could be run"));
    // A skip with a reason is reported, and counts against the share.
    let r = run(
        "<!-- certify: skip reason=\"needs a browser\" -->\n```bash\nxdg-open x\n```\n\n```bash\ntrue\n```\n",
    );
    assert_eq!(
        r.steps[0].status,
        StepStatus::Skipped {
            reason: "needs a browser".into()
        }
    );
    assert!((r.executed_share() - 0.5).abs() < 1e-9);
    assert!(r.passed());
    // Blueprint Library steps without a deployment are skipped with a reason.
    let r = run(
        "1. Locate the 'Install X on Linux' Blueprint in the Blueprint Library.\n2. Deploy the Blueprint.\n3. Watch the Queue.\n",
    );
    assert!(r.steps.iter().all(
        |s| matches!(&s.status, StepStatus::Skipped { reason } if reason.contains("certify run"))
    ));
    assert!(!r.passed());
}

#[test]
fn hidden_setup_runs_but_is_not_counted() {
    let r = run(
        "<!-- certify: setup\nexport WIDGETS=3\n-->\n\n```console\n$ echo $WIDGETS widgets\n3 widgets\n```\n",
    );
    assert!(r.passed(), "{:#?}", r.steps);
    assert!(r.steps[0].hidden);
    assert_eq!((r.executed, r.total), (1, 1));
}

#[test]
fn output_blocks_are_expected_output_with_wildcards() {
    let r = run(
        "```bash\nprintf 'Widget server 1.4.2\\nready in 35ms\\nbye\\n'\n```\n\nYou should see:\n\n```text\nWidget server [..]\n...\n```\n\n```bash\necho nope\n```\n\n```output\nyes\n```\n",
    );
    let st = statuses(&r);
    assert_eq!(st[0].1, &StepStatus::Passed);
    assert!(
        matches!(
            st[1],
            (
                13,
                StepStatus::Failed {
                    kind: FailureKind::Output,
                    ..
                }
            )
        ),
        "{st:?}"
    );
}
