//! Fewer requests in flight while AWS says to slow down. The session's request permits
//! start at `max_concurrency`; a throttled answer (S3's `503 SlowDown`, a 429, or a
//! throttling error code) halves them, at most once per round of answers (those to the
//! requests already in flight at the cut were sent at the old rate and say nothing new),
//! and every round of answers without one gives one back, up to `max_concurrency`.
//! Retries with backoff still handle each throttled request; this lowers the rate that
//! caused them, which is what S3 asks of a client.

use std::sync::{Arc, Mutex};

use object_store::client::{HttpClient, HttpConnector, HttpError, HttpRequest, HttpResponse, HttpService};
use object_store::ClientOptions;
use tokio::runtime::Handle;
use tokio::sync::Semaphore;

/// The request permits of a session and how many of them are in use now.
#[derive(Debug)]
pub(crate) struct Throttle {
    permits: Arc<Semaphore>,
    state: Mutex<Limit>,
}

/// The permits' count as answers come: pure, so that it can be tested without requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Limit {
    /// Permits there are meant to be now.
    pub now: usize,
    max: usize,
    /// Answers since the last change.
    answers: usize,
    /// Answers to wait for after a cut before the next throttled one counts.
    settling: usize,
}

impl Limit {
    pub fn new(max: usize) -> Self {
        Limit {
            now: max.max(1),
            max: max.max(1),
            answers: 0,
            settling: 0,
        }
    }

    /// One answer; returns the change of the limit it causes (negative: fewer permits).
    pub fn answered(&mut self, throttled: bool) -> isize {
        self.answers += 1;
        if throttled {
            if self.answers <= self.settling || self.now == 1 {
                return 0;
            }
            let before = self.now;
            self.now = (before / 2).max(1);
            self.answers = 0;
            // The other requests in flight at the cut were sent at the old rate.
            self.settling = before - 1;
            return self.now as isize - before as isize;
        }
        // A round: as many answers as permits, and not before the cut has settled.
        if self.answers >= self.now.max(self.settling) && self.now < self.max {
            self.now += 1;
            self.answers = 0;
            self.settling = 0;
            return 1;
        }
        0
    }
}

impl Throttle {
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Throttle {
            permits: Arc::new(Semaphore::new(max)),
            state: Mutex::new(Limit::new(max)),
        }
    }

    pub fn permits(&self) -> &Arc<Semaphore> {
        &self.permits
    }

    /// Permits there are meant to be now (at most `max_concurrency`).
    #[cfg(test)]
    pub fn limit(&self) -> usize {
        self.state.lock().expect("throttle lock").now
    }

    /// Counts one answer from AWS. Permits in use are taken out of the count as they
    /// come back (on `runtime`), so a cut never waits here.
    pub fn answered(&self, throttled: bool, runtime: &Handle) {
        let change = self.state.lock().expect("throttle lock").answered(throttled);
        match change {
            0 => {}
            more if more > 0 => self.permits.add_permits(more as usize),
            fewer => {
                let fewer = fewer.unsigned_abs();
                let rest = fewer - self.permits.forget_permits(fewer);
                if rest > 0 {
                    let permits = Arc::clone(&self.permits);
                    runtime.spawn(async move {
                        if let Ok(p) = permits.acquire_many_owned(rest as u32).await {
                            p.forget();
                        }
                    });
                }
            }
        }
    }
}

/// The session's HTTP client (reqwest) for object_store, with every answer counted by
/// a [`Throttle`]: object_store retries a throttled GET itself, so this is where S3's
/// `SlowDown` answers to object reads are seen.
///
/// Every bucket's store shares the one client, and so its connections and the trust
/// roots it loaded once (a client of its own per bucket would read the system's
/// certificates again, a few milliseconds before the bucket's first request). The
/// client is made as object_store makes its own from the store's [`ClientOptions`]:
/// the session's time limits, no decompression; the options are not read again here.
#[derive(Debug)]
pub(crate) struct Watched {
    client: reqwest::Client,
    throttle: Arc<Throttle>,
    runtime: Handle,
}

impl Watched {
    pub fn new(client: reqwest::Client, throttle: Arc<Throttle>, runtime: Handle) -> Self {
        Watched {
            client,
            throttle,
            runtime,
        }
    }
}

impl HttpConnector for Watched {
    fn connect(&self, _options: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(WatchedClient {
            inner: self.client.clone(),
            throttle: Arc::clone(&self.throttle),
            runtime: self.runtime.clone(),
        }))
    }
}

#[derive(Debug)]
struct WatchedClient {
    inner: reqwest::Client,
    throttle: Arc<Throttle>,
    runtime: Handle,
}

#[async_trait::async_trait]
impl HttpService for WatchedClient {
    async fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let answer = self.inner.call(request).await;
        if let Ok(r) = &answer {
            let throttled = matches!(r.status().as_u16(), 503 | 429);
            self.throttle.answered(throttled, &self.runtime);
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_throttled_answer_halves_the_limit_once_per_round() {
        let mut l = Limit::new(64);
        assert_eq!(l.answered(true), -32);
        assert_eq!(l.now, 32);
        // The other answers of the 64 in flight at the cut change nothing more.
        for _ in 0..63 {
            assert_eq!(l.answered(true), 0);
        }
        assert_eq!(l.now, 32);
        // The next round's throttled answer halves again, down to one at least.
        assert_eq!(l.answered(true), -16);
        for _ in 0..10 {
            for _ in 0..64 {
                l.answered(true);
            }
        }
        assert_eq!(l.now, 1);
    }

    #[test]
    fn each_round_without_throttling_gives_one_permit_back_up_to_the_maximum() {
        let mut l = Limit::new(8);
        l.answered(true);
        assert_eq!(l.now, 4);
        // The answers to the seven others sent before the cut, then each round of five.
        let mut given = 0;
        for _ in 0..6 {
            given += l.answered(false);
        }
        assert_eq!((given, l.now), (0, 4));
        given += l.answered(false);
        assert_eq!((given, l.now), (1, 5));
        for _ in 0..5 {
            given += l.answered(false);
        }
        assert_eq!((given, l.now), (2, 6));
        for _ in 0..1000 {
            l.answered(false);
        }
        assert_eq!(l.now, 8);
    }

    #[test]
    fn object_stores_answers_are_counted() {
        use std::io::{BufRead, BufReader, Write};
        // Answers 503 SlowDown, then 200, one request per connection.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/b/k", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            let answers = [
                "HTTP/1.1 503 Slow Down\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
            ];
            for (stream, answer) in listener.incoming().zip(answers) {
                let mut stream = stream.unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap() > 0 && !line.ends_with("\r\n\r\n") {}
                stream.write_all(answer.as_bytes()).unwrap();
            }
        });
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let throttle = Arc::new(Throttle::new(16));
        let client = Watched::new(
            reqwest::Client::new(),
            Arc::clone(&throttle),
            runtime.handle().clone(),
        )
        .connect(&ClientOptions::new().with_allow_http(true))
        .unwrap();
        let get = || {
            http::Request::builder()
                .uri(url.as_str())
                .body(object_store::client::HttpRequestBody::from(Vec::<u8>::new()))
                .unwrap()
        };
        let first = runtime.block_on(client.execute(get())).unwrap();
        assert_eq!(first.status().as_u16(), 503);
        assert_eq!(throttle.limit(), 8);
        let second = runtime.block_on(client.execute(get())).unwrap();
        assert_eq!(second.status().as_u16(), 200);
        assert_eq!(throttle.limit(), 8);
    }

    #[test]
    fn the_semaphore_follows_the_limit_with_permits_in_use() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let t = Throttle::new(8);
        // Six permits in use when S3 throttles: two are forgotten at once, two more as
        // the requests in flight end.
        let held = runtime
            .block_on(Arc::clone(t.permits()).acquire_many_owned(6))
            .unwrap();
        t.answered(true, runtime.handle());
        assert_eq!(t.limit(), 4);
        assert_eq!(t.permits().available_permits(), 0);
        drop(held);
        runtime.block_on(async {
            for _ in 0..100 {
                if t.permits().available_permits() <= 4 {
                    break;
                }
                tokio::task::yield_now().await;
            }
        });
        assert_eq!(t.permits().available_permits(), 4);
        // Answers without throttling give permits back, one per round (the first one
        // once the seven others in flight at the cut have answered).
        for _ in 0..7 {
            t.answered(false, runtime.handle());
        }
        assert_eq!((t.limit(), t.permits().available_permits()), (5, 5));
    }
}
