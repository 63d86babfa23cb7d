//! The step runner: state between steps, time limits, a clean environment, bounded and
//! masked output, and no silent passes.

use std::time::{Duration, Instant};

use certify_kb::{
    Article, ArticleRun, Bindings, DocRules, FailureKind, HttpClient, HttpRequest, RunContext,
    RunOptions, StdHttpClient, StepStatus, run_article,
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
fn exported_variables_and_the_working_directory_carry_from_step_to_step() {
    let r = run(
        "1. One\n\n   ```bash\n   export GREETING=hello\n   mkdir -p sub/dir && cd sub/dir\n   ```\n\n2. Two\n\n   ```console\n   $ echo \"$GREETING, world\"\n   hello, world\n   $ pwd\n   [..]/sub/dir\n   ```\n",
    );
    assert!(r.passed(), "{:#?}", r.steps);
    assert_eq!(r.executed, 3);
}

/// A hidden setup step that redefines a command must not steer the visible steps after
/// it: functions, aliases, unexported variables and the variables that pick programs
/// (`PATH`, `BASH_ENV`, `LD_PRELOAD`) do not carry, and neither does anything a step
/// writes into the files the harness reads its state from.
#[test]
fn a_setup_step_cannot_redefine_the_commands_of_later_steps() {
    let r = run(concat!(
        "<!-- certify: setup\n",
        "cat() { echo ok; }\n",
        "export -f cat\n",
        "alias wget='echo ok'\n",
        "HIDDEN=1\n",
        "mkdir -p \"$HOME/fake\" && printf '#!/bin/sh\\necho ok\\n' > \"$HOME/fake/false\" && chmod +x \"$HOME/fake/false\"\n",
        "printf 'true() { echo hijacked; }\\n' > \"$HOME/env.sh\"\n",
        "export PATH=\"$HOME/fake:$PATH\" BASH_ENV=\"$HOME/env.sh\" LD_PRELOAD=/nonexistent.so\n",
        "-->\n\n",
        "<!-- certify: setup\n",
        "trap - EXIT\n",
        "printf 'BASH_FUNC_true%%%%=() { echo hijacked; }\\0PATH=/nowhere\\0KEPT=yes\\0' > \"$__CERTIFY_OUT.env\"\n",
        "-->\n\n",
        "```console\n",
        "$ type -t cat\n",
        "file\n",
        "$ echo real | cat\n",
        "real\n",
        "$ echo \"${HIDDEN:-unset} ${LD_PRELOAD:-unset} ${BASH_ENV:-unset} $KEPT\"\n",
        "unset unset unset yes\n",
        "$ true && echo plain true\n",
        "plain true\n",
        "$ false || echo the real false\n",
        "the real false\n",
        "$ wget 2>/dev/null || echo no alias\n",
        "no alias\n",
        "```\n",
    ));
    assert!(r.passed(), "{:#?}", r.steps);
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

/// Serves one connection on 127.0.0.1 with `respond`, returning the base URL.
fn serve_once(respond: impl FnOnce(std::net::TcpStream) + Send + 'static) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut buf = [0u8; 1024];
            let _ = std::io::Read::read(&mut stream, &mut buf);
            respond(stream);
        }
    });
    url
}

/// A chunked body whose chunks split a UTF-8 character used to panic the runner.
#[test]
fn a_chunk_that_ends_inside_a_character_is_decoded_whole() {
    let url = serve_once(|mut s| {
        use std::io::Write;
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nh\xc3\r\n4\r\n\xa9llo\r\n0\r\n\r\n");
    });
    let req = HttpRequest::parse(&format!("GET {url}")).unwrap();
    let resp = StdHttpClient.send(&req, Duration::from_secs(10)).unwrap();
    assert_eq!((resp.status, resp.body.as_str()), (200, "héllo"));
}

/// A server that sends a byte at a time never hits a per-read timeout; the step's
/// limit is a deadline for the whole response.
#[test]
fn a_trickling_server_cannot_outlast_the_step_limit() {
    let url = serve_once(|mut s| {
        use std::io::Write;
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\n");
        for _ in 0..400 {
            if s.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let req = HttpRequest::parse(&format!("GET {url}")).unwrap();
    let err = StdHttpClient
        .send(&req, Duration::from_millis(500))
        .unwrap_err();
    assert!(err.contains("time limit"), "{err}");
}
