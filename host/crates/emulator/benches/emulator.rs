//! Emulator throughput through the real client over loopback HTTP: `GET server` requests
//! per second (target ≥ 2,000/s on 2 cores) and server creations per second (target
//! ≥ 200/s). Criterion reports the time per request; the throughput line is requests/s.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use certify_clc::model::CreateServer;
use certify_clc::{Client, PollPolicy};
use certify_emulator::{Emulator, RunningEmulator};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const CONCURRENCY: u64 = 16;

struct Setup {
    rt: tokio::runtime::Runtime,
    _emu: RunningEmulator,
    client: Client,
    group: String,
    server: String,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (emu, client, group, server) = rt.block_on(async {
        let emu = Emulator::builder()
            .clock_scale(6000.0)
            .start("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let client = Client::builder(emu.url(), emu.credentials())
            .poll(PollPolicy::fast())
            .build()
            .unwrap();
        let root = client.root_group_id("VA1").await.unwrap();
        let group = client
            .group(&root)
            .await
            .unwrap()
            .find_by_name("Default Group")
            .unwrap()
            .id
            .clone();
        let q = client
            .create_server(&request(&group, "bench"))
            .await
            .unwrap();
        client.wait(&q.pending).await.unwrap();
        let server = client
            .server_by_uuid(q.uuid.as_deref().unwrap())
            .await
            .unwrap()
            .id;
        (emu, client, group, server)
    });
    Setup {
        rt,
        _emu: emu,
        client,
        group,
        server,
    }
}

fn request(group: &str, name: &str) -> CreateServer {
    CreateServer {
        name: name.into(),
        group_id: group.into(),
        source_server_id: "CENTOS-7-64-TEMPLATE".into(),
        cpu: Some(1),
        memory_gb: Some(1),
        kind: Some("standard".into()),
        description: Some("bench".into()),
        ..Default::default()
    }
}

/// Runs `total` calls of `f` with `CONCURRENCY` callers; returns the wall time.
async fn fan_out<F, Fut>(total: u64, f: F) -> Duration
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (f, next) = (f.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                f(i).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let s = setup();
    let mut g = c.benchmark_group("emulator");
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(8));

    g.bench_function("get_server", |b| {
        b.iter_custom(|iters| {
            let (client, id) = (s.client.clone(), s.server.clone());
            s.rt.block_on(fan_out(iters, move |_| {
                let (client, id) = (client.clone(), id.clone());
                async move {
                    client.server(&id).await.unwrap();
                }
            }))
        })
    });

    let names = Arc::new(AtomicU64::new(0));
    g.bench_function("create_server", |b| {
        b.iter_custom(|iters| {
            let (client, group, names) = (s.client.clone(), s.group.clone(), names.clone());
            s.rt.block_on(fan_out(iters, move |_| {
                let (client, group) = (client.clone(), group.clone());
                // A fresh short name per 90 servers keeps the <NN> suffix in range.
                let n = names.fetch_add(1, Ordering::Relaxed) / 90;
                async move {
                    client
                        .create_server(&request(&group, &format!("b{n}")))
                        .await
                        .unwrap();
                }
            }))
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
