//! A real language model for end-to-end tests: llama.cpp's OpenAI-compatible server
//! (`python -m llama_cpp.server` from the venv `tests/llm/setup` installs) serving
//! SmolLM2-135M-Instruct as `smollm2` on a free loopback port, and a reader for its SSE streams.
//!
//! [`shared`] starts one server per test binary on first use (loading takes a second or more) and
//! the kernel kills it when the test process ends, however it ends: it is spawned from a thread
//! that lives as long as the process, with `PR_SET_PDEATHSIG`. [`LlamaServer::start`] gives a
//! test its own server, killed on drop. When the venv or the model is missing, [`shared`] prints
//! `SKIPPED …` naming the missing part and `tests/llm/setup`, and the test returns; with
//! `WARREN_LLM_REQUIRED=1` (`.ci/run` sets it) a missing part fails the test instead.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

/// The name the server gives the model (`--model_alias`).
pub const MODEL: &str = "smollm2";
/// The model file inside `$WARREN_LLM_DIR/models/`.
const MODEL_FILE: &str = "SmolLM2-135M-Instruct.Q4_1.gguf";
/// How long loading may take before the start counts as failed (a cold disk on a busy machine).
const READY_WITHIN: Duration = Duration::from_secs(180);

/// Why there is no server.
#[derive(Debug)]
pub enum Unavailable {
    /// Not installed: the test skips (or fails under `WARREN_LLM_REQUIRED=1`).
    Missing(String),
    /// Installed but it did not come up: always a failure, with the server's output.
    Failed(String),
}

/// Where `tests/llm/setup` puts things: `${WARREN_LLM_DIR:-$HOME/.cache/warren/llm}`.
pub fn llm_dir() -> PathBuf {
    match std::env::var_os("WARREN_LLM_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(".cache/warren/llm")
        }
    }
}

/// The venv's python and the model file, or which of them is missing and how to install it.
pub fn installed() -> Result<(PathBuf, PathBuf), Unavailable> {
    let dir = llm_dir();
    let python = dir.join("venv/bin/python");
    let model = dir.join("models").join(MODEL_FILE);
    let mut missing = Vec::new();
    if !python.exists() {
        missing.push(format!(
            "the llama.cpp server's venv ({} does not exist)",
            python.display()
        ));
    }
    if !model.exists() {
        missing.push(format!(
            "the SmolLM2 model ({} does not exist)",
            model.display()
        ));
    }
    if missing.is_empty() {
        Ok((python, model))
    } else {
        Err(Unavailable::Missing(format!(
            "missing {}; install them with `tests/llm/setup` (WARREN_LLM_DIR chooses the directory)",
            missing.join(" and ")
        )))
    }
}

/// A running llama.cpp server.
pub struct LlamaServer {
    child: Mutex<Child>,
    addr: SocketAddr,
    log: PathBuf,
    /// From spawning the process to `GET /v1/models` answering.
    pub load_time: Duration,
    _dir: tempfile::TempDir,
}

/// The process, spawned; not yet known to be ready.
struct Spawned {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    dir: tempfile::TempDir,
    started: Instant,
}

impl LlamaServer {
    /// Starts a server of the test's own (killed when it is dropped) and waits until it answers.
    pub fn start() -> Result<LlamaServer, Unavailable> {
        spawn().and_then(wait_ready)
    }

    /// `http://127.0.0.1:PORT/v1`, what an OpenAI-compatible client is configured with.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The model name requests use.
    pub fn model(&self) -> &'static str {
        MODEL
    }

    /// Everything the server printed (stdout and stderr) so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Where the server's output goes.
    pub fn log_path(&self) -> &std::path::Path {
        &self.log
    }
}

impl Drop for LlamaServer {
    fn drop(&mut self) {
        if let Ok(child) = self.child.get_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The server shared by every test of this binary, started on first use; `None` (after printing
/// `SKIPPED test: why`) when it is not installed. Panics when it is installed but fails to start.
pub async fn shared(test: &str) -> Option<&'static LlamaServer> {
    static SHARED: OnceLock<Result<LlamaServer, Unavailable>> = OnceLock::new();
    let server = tokio::task::spawn_blocking(|| SHARED.get_or_init(start_kept))
        .await
        .expect("the shared llama.cpp server's start does not panic");
    match server {
        Ok(server) => Some(server),
        Err(Unavailable::Missing(why)) if !required() => {
            eprintln!("SKIPPED {test}: {why}");
            None
        }
        Err(Unavailable::Missing(why)) => {
            panic!("{why} (WARREN_LLM_REQUIRED is set, so this fails instead of skipping)")
        }
        Err(Unavailable::Failed(why)) => panic!("{why}"),
    }
}

/// `WARREN_LLM_REQUIRED` set to anything but `0`.
fn required() -> bool {
    std::env::var("WARREN_LLM_REQUIRED").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Spawns the shared server from a thread that never ends, so `PR_SET_PDEATHSIG` (which fires
/// when the spawning *thread* exits) fires only when the whole test process exits.
fn start_kept() -> Result<LlamaServer, Unavailable> {
    let (tx, rx) = mpsc::channel();
    let keeper = std::thread::Builder::new()
        .name("llama-server-keeper".into())
        .spawn(move || {
            let _ = tx.send(spawn());
            loop {
                std::thread::park();
            }
        });
    if let Err(e) = keeper {
        return Err(Unavailable::Failed(format!(
            "cannot start a thread for the llama.cpp server: {e}"
        )));
    }
    let spawned = rx.recv().map_err(|_| {
        Unavailable::Failed("the llama.cpp server's keeper thread ended early".into())
    })??;
    wait_ready(spawned)
}

/// A loopback port nobody listens on right now.
fn free_port() -> Result<u16, Unavailable> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Unavailable::Failed(format!("cannot find a free port: {e}")))
}

fn spawn() -> Result<Spawned, Unavailable> {
    let (python, model) = installed()?;
    let port = free_port()?;
    let dir = tempfile::tempdir()
        .map_err(|e| Unavailable::Failed(format!("cannot make a temp dir: {e}")))?;
    let log = dir.path().join("llama-server.log");
    let file = std::fs::File::create(&log)
        .map_err(|e| Unavailable::Failed(format!("cannot create {}: {e}", log.display())))?;
    let out = file
        .try_clone()
        .map_err(|e| Unavailable::Failed(format!("cannot share {}: {e}", log.display())))?;
    let port_arg = port.to_string();
    let mut command = Command::new(&python);
    command
        .args(["-m", "llama_cpp.server", "--model"])
        .arg(&model)
        .args(["--model_alias", MODEL, "--host", "127.0.0.1", "--port"])
        .arg(&port_arg)
        .args(["--n_threads", "2", "--n_ctx", "2048"])
        // Without this a second request cuts the running stream short (it ends with [DONE]
        // and no finish_reason); with it, requests queue for the one model.
        .args(["--interrupt_requests", "False"])
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(file));
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let started = Instant::now();
    let child = command.spawn().map_err(|e| {
        Unavailable::Failed(format!(
            "cannot run {}: {e}; reinstall with `tests/llm/setup`",
            python.display()
        ))
    })?;
    Ok(Spawned {
        child,
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        log,
        dir,
        started,
    })
}

/// Waits (bounded) until `GET /v1/models` lists the model; on failure kills the process and
/// reports its output.
fn wait_ready(mut s: Spawned) -> Result<LlamaServer, Unavailable> {
    let deadline = s.started + READY_WITHIN;
    let failure = loop {
        match s.child.try_wait() {
            Ok(Some(status)) => {
                break format!("the llama.cpp server exited ({status}) before it answered");
            }
            Err(e) => break format!("cannot watch the llama.cpp server: {e}"),
            Ok(None) => {}
        }
        if models_answer(s.addr) {
            return Ok(LlamaServer {
                child: Mutex::new(s.child),
                addr: s.addr,
                log: s.log,
                load_time: s.started.elapsed(),
                _dir: s.dir,
            });
        }
        if Instant::now() >= deadline {
            break format!(
                "the llama.cpp server did not answer GET /v1/models within {READY_WITHIN:?}"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = s.child.kill();
    let _ = s.child.wait();
    let output = std::fs::read_to_string(&s.log).unwrap_or_default();
    let tail: Vec<&str> = output.lines().rev().take(40).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(Unavailable::Failed(format!(
        "{failure}; if the install is broken, delete {} and run `tests/llm/setup`. Its last \
         output:\n{}",
        llm_dir().join("venv").display(),
        tail.join("\n")
    )))
}

/// True when `GET /v1/models` answers 200 and names the model.
fn models_answer(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET /v1/models HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    if stream.read_to_string(&mut response).is_err() {
        return false;
    }
    response.starts_with("HTTP/1.1 200") && response.contains(&format!("\"{MODEL}\""))
}

/// Reads the `data:` payloads of a `text/event-stream` response, one event at a time.
pub struct Sse {
    response: reqwest::Response,
    buf: Vec<u8>,
}

impl Sse {
    pub fn new(response: reqwest::Response) -> Sse {
        Sse {
            response,
            buf: Vec::new(),
        }
    }

    /// The next event's data (its `data:` lines joined by newlines), or `None` at the end of
    /// the body. Events without data (comments, pings) are skipped.
    pub async fn next(&mut self) -> Option<String> {
        loop {
            if let Some(end) = find_blank_line(&self.buf) {
                let event: Vec<u8> = self.buf.drain(..end.0).collect();
                self.buf.drain(..end.1 - end.0);
                let text = String::from_utf8_lossy(&event);
                let data: Vec<&str> = text
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(|d| d.strip_prefix(' ').unwrap_or(d))
                    .collect();
                if !data.is_empty() {
                    return Some(data.join("\n"));
                }
                continue;
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self.buf.extend_from_slice(&chunk),
                Ok(None) => return None,
                Err(e) => panic!("the SSE stream broke: {e}"),
            }
        }
    }
}

/// The end of the first event in `buf`: (where its blank line starts, where it ends). Lines end
/// in `\r\n` (sse-starlette, which llama.cpp's server uses) or `\n`.
fn find_blank_line(buf: &[u8]) -> Option<(usize, usize)> {
    [&b"\r\n\r\n"[..], &b"\n\n"[..]]
        .into_iter()
        .filter_map(|sep| {
            buf.windows(sep.len())
                .position(|w| w == sep)
                .map(|i| (i, i + sep.len()))
        })
        .min()
}

/// A reqwest client for plain-http loopback requests (reqwest still wants a rustls provider).
pub fn http() -> reqwest::Client {
    let _ = warren_server::tls::crypto_provider()
        .as_ref()
        .clone()
        .install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("a reqwest client")
}
