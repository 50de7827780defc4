//! The model provider layer (issue #9) against the fake provider over real HTTP: every failure
//! classified, `Retry-After` waited out, transient errors retried then the next provider, auth
//! not retried, the circuit breaker opening, skipping, probing and closing, partial text kept
//! when a stream breaks or is cancelled, reported and counted usage, every dialect's stream and
//! tool calls, and keys only ever in the request's header.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use warren::provider::{
    BreakerPolicy, Breakers, Cancel, Chain, ChainOutcome, ChainSettings, ChatMessage, Completion,
    FinishReason, HealthState, ModelRequest, ProviderConfig, RetryPolicy, Timeouts, ToolChoice,
    ToolSpec,
};
use warren_e2e::fake_provider::{Behaviour, End, FakeProvider};
use warren_protocol::agent::{Price, ProviderErrorClass, ProviderKind};

/// The key every test's providers read, and its value (never to appear outside the header).
const KEY_VAR: &str = "WARREN_TEST_FAKE_PROVIDER_KEY";
const KEY: &str = "sk-fake-secret-7a91c3";

fn set_key() {
    static SET: OnceLock<()> = OnceLock::new();
    SET.get_or_init(|| {
        // SAFETY: set once, before any provider of this test process reads it; nothing else in
        // this process writes the environment.
        unsafe { std::env::set_var(KEY_VAR, KEY) };
    });
}

fn provider(name: &str, kind: ProviderKind, fake: &FakeProvider, model: &str) -> ProviderConfig {
    set_key();
    let base_url = match kind {
        ProviderKind::Openai => fake.openai_url(),
        ProviderKind::Anthropic => fake.anthropic_url(),
        ProviderKind::Ollama => fake.ollama_url(),
        ProviderKind::Gemini => fake.gemini_url(),
    };
    ProviderConfig {
        name: name.into(),
        kind,
        base_url,
        key_env: Some(KEY_VAR.into()),
        models: vec![model.into()],
        price: Price::default(),
        context_tokens: Some(8192),
    }
}

fn openai(name: &str, fake: &FakeProvider, model: &str) -> ProviderConfig {
    provider(name, ProviderKind::Openai, fake, model)
}

/// Small waits, so failures are quick.
fn settings() -> ChainSettings {
    ChainSettings {
        retry: RetryPolicy {
            max_tries: 3,
            base: Duration::from_millis(20),
            cap: Duration::from_millis(80),
            retry_after_cap: Duration::from_secs(5),
        },
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            first_byte: Duration::from_millis(500),
            between_bytes: Duration::from_millis(500),
        },
    }
}

fn chain() -> Chain {
    Chain::with_breakers(
        settings(),
        Arc::new(Breakers::new(BreakerPolicy::default())),
    )
    .expect("chain")
}

fn request(model: &str) -> ModelRequest {
    ModelRequest {
        model: model.into(),
        system: "You are a test.".into(),
        messages: vec![ChatMessage::User {
            text: "say hello".into(),
        }],
        tools: Vec::new(),
        tool_choice: ToolChoice::Auto,
        max_tokens: Some(100),
        temperature: Some(0.0),
    }
}

/// A chain call collecting the deltas it streamed.
async fn call(
    chain: &Chain,
    providers: &[ProviderConfig],
    request: &ModelRequest,
) -> (ChainOutcome, Vec<String>) {
    let mut deltas = Vec::new();
    let outcome = chain
        .call(providers, request, &Cancel::never(), |d: &str| {
            deltas.push(d.to_string())
        })
        .await;
    (outcome, deltas)
}

fn answer(outcome: &ChainOutcome) -> &Completion {
    match &outcome.result {
        Ok(completion) => completion,
        Err(e) => panic!("no answer: {e:?}; attempts {:?}", outcome.attempts),
    }
}

fn failure(outcome: &ChainOutcome) -> &warren::provider::CallError {
    match &outcome.result {
        Ok(c) => panic!("answered: {c:?}"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn tokens_stream_with_reported_usage_and_the_key_only_in_its_header() {
    let fake = FakeProvider::start().await.expect("fake");
    fake.script("m", [Behaviour::tokens(["Hel", "lo", ", ", "world"])]);
    let p = openai("local", &fake, "m");
    let (outcome, deltas) = call(&chain(), &[p], &request("m")).await;
    let done = answer(&outcome);
    assert_eq!(deltas, ["Hel", "lo", ", ", "world"]);
    assert_eq!(done.text, "Hello, world");
    assert_eq!(done.finish_reason, Some(FinishReason::Stop));
    assert_eq!((done.usage.input_tokens, done.usage.output_tokens), (11, 4));
    assert!(!done.usage.counted);
    assert!(done.first_token_ms.is_some());
    assert!(outcome.attempts.is_empty());
    assert_eq!(outcome.provider.as_deref(), Some("local"));

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let elsewhere: Vec<&(String, String)> = sent
        .headers
        .iter()
        .filter(|(n, v)| n != "authorization" && v.contains(KEY))
        .collect();
    assert!(
        elsewhere.is_empty(),
        "the key in other headers: {elsewhere:?}"
    );
    assert!(!sent.body.to_string().contains(KEY) && !sent.path.contains(KEY));
    assert_eq!(sent.body["stream"], true);
    assert_eq!(sent.body["stream_options"]["include_usage"], true);
    assert_eq!(sent.body["messages"][0]["role"], "system");
    assert_eq!(sent.body["messages"][1]["content"], "say hello");
    assert_eq!(sent.body["temperature"], 0.0);
}

#[tokio::test]
async fn a_stream_without_usage_is_counted_and_marked() {
    let fake = FakeProvider::start().await.expect("fake");
    fake.script(
        "m",
        [Behaviour::tokens(["a", "b", "c", "d", "e"]).without_usage()],
    );
    let (outcome, _) = call(&chain(), &[openai("llama", &fake, "m")], &request("m")).await;
    let usage = answer(&outcome).usage;
    assert!(usage.counted);
    // One streamed delta a token; the prompt ("You are a test." + "say hello") at 4 chars a token.
    assert_eq!(usage.output_tokens, 5);
    assert_eq!(usage.input_tokens, 24u64.div_ceil(4));
}

#[tokio::test]
async fn every_dialect_streams_text_a_forced_tool_call_and_usage() {
    let fake = FakeProvider::start().await.expect("fake");
    let tool = ToolSpec {
        name: "card_create".into(),
        description: "Create a card".into(),
        parameters: serde_json::json!({"type": "object", "properties": {"title": {"type": "string"}}}),
    };
    for kind in ProviderKind::ALL {
        let model = format!("model-{}", kind.as_str());
        fake.script(
            &model,
            [Behaviour::tokens(["Sure", "."])
                .with_tool_call("card_create", r#"{"title":"Ship it"}"#)],
        );
        let mut req = request(&model);
        req.tools = vec![tool.clone()];
        req.tool_choice = ToolChoice::Required("card_create".into());
        let p = provider(kind.as_str(), kind, &fake, &model);
        let (outcome, deltas) = call(&chain(), &[p], &req).await;
        let done = answer(&outcome);
        assert_eq!(deltas.concat(), "Sure.", "{kind:?}");
        assert_eq!(done.tool_calls.len(), 1, "{kind:?}");
        assert_eq!(done.tool_calls[0].name, "card_create");
        let args: serde_json::Value =
            serde_json::from_str(&done.tool_calls[0].arguments).expect("arguments parse");
        assert_eq!(args["title"], "Ship it", "{kind:?}");
        assert_eq!(
            done.finish_reason,
            Some(FinishReason::ToolCalls),
            "{kind:?}"
        );
        assert!(!done.usage.counted, "{kind:?}");
        assert_eq!(done.usage.input_tokens, 11, "{kind:?}");

        let sent = fake.requests_for(&model).pop().expect("request");
        let (key_header, value) = match kind {
            ProviderKind::Openai | ProviderKind::Ollama => {
                ("authorization", format!("Bearer {KEY}"))
            }
            ProviderKind::Anthropic => ("x-api-key", KEY.to_string()),
            ProviderKind::Gemini => ("x-goog-api-key", KEY.to_string()),
        };
        assert_eq!(sent.header(key_header), Some(value.as_str()), "{kind:?}");
        assert!(!sent.body.to_string().contains(KEY) && !sent.path.contains(KEY));
        let forced = match kind {
            ProviderKind::Openai => sent.body["tool_choice"]["function"]["name"].clone(),
            ProviderKind::Anthropic => sent.body["tool_choice"]["name"].clone(),
            ProviderKind::Gemini => {
                sent.body["toolConfig"]["functionCallingConfig"]["allowedFunctionNames"][0].clone()
            }
            ProviderKind::Ollama => sent.body["tools"][0]["function"]["name"].clone(),
        };
        assert_eq!(forced, "card_create", "{kind:?}: {}", sent.body);
        if kind == ProviderKind::Anthropic {
            assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
        }
    }
}

#[tokio::test]
async fn a_rate_limit_waits_its_retry_after_then_succeeds() {
    let fake = FakeProvider::start().await.expect("fake");
    fake.script(
        "m",
        [
            Behaviour::status(429)
                .retry_after("1")
                .message("Rate limit reached"),
            Behaviour::tokens(["ok"]),
        ],
    );
    let (outcome, _) = call(&chain(), &[openai("p", &fake, "m")], &request("m")).await;
    assert_eq!(answer(&outcome).text, "ok");
    assert_eq!(outcome.attempts.len(), 1);
    let attempt = &outcome.attempts[0];
    assert_eq!(attempt.class, ProviderErrorClass::RateLimit);
    assert_eq!(attempt.retry_after, Some(Duration::from_secs(1)));
    assert_eq!(attempt.wait_ms, Some(1000));
    assert!(attempt.message.contains("HTTP 429") && attempt.message.contains("Rate limit reached"));
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].at.duration_since(requests[0].at);
    assert!(gap >= Duration::from_millis(990), "retried after {gap:?}");

    // A wait longer than the cap is not waited out: the next provider answers at once.
    fake.script("long", [Behaviour::status(429).retry_after("60")]);
    fake.script("other", [Behaviour::tokens(["there"])]);
    let started = Instant::now();
    let providers = [
        openai("slow", &fake, "long"),
        openai("spare", &fake, "other"),
    ];
    let (outcome, _) = call(&chain(), &providers, &request("long")).await;
    assert_eq!(answer(&outcome).text, "there");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(outcome.attempts[0].wait_ms, None);
}

#[tokio::test]
async fn server_errors_are_retried_then_the_next_provider_answers() {
    let fake = FakeProvider::start().await.expect("fake");
    fake.always("a", Behaviour::status(500));
    fake.script("b", [Behaviour::tokens(["from", " b"])]);
    let providers = [openai("first", &fake, "a"), openai("second", &fake, "b")];
    let (outcome, deltas) = call(&chain(), &providers, &request("a")).await;
    assert_eq!(answer(&outcome).text, "from b");
    assert_eq!(deltas.concat(), "from b");
    assert_eq!(outcome.provider.as_deref(), Some("second"));
    assert_eq!(outcome.model.as_deref(), Some("b"));
    assert_eq!(
        fake.requests_for("a").len(),
        3,
        "max_tries on the first provider"
    );
    let classes: Vec<_> = outcome
        .attempts
        .iter()
        .map(|a| (a.provider.as_str(), a.class))
        .collect();
    assert_eq!(classes, [("first", ProviderErrorClass::Server); 3]);
    assert!(outcome.attempts[0].message.contains("HTTP 500"));
    assert!(outcome.attempts[0].wait_ms.is_some() && outcome.attempts[2].wait_ms.is_none());
    assert!(
        outcome
            .attempts
            .windows(2)
            .all(|w| w[0].after_ms <= w[1].after_ms)
    );
}

#[tokio::test]
async fn auth_errors_are_not_retried_and_a_missing_key_names_its_variable() {
    let fake = FakeProvider::start().await.expect("fake");
    fake.always(
        "a",
        Behaviour::status(401).message(&format!("Incorrect API key provided: {KEY}")),
    );
    fake.always("b", Behaviour::tokens(["fine"]));
    let providers = [openai("wrong-key", &fake, "a"), openai("good", &fake, "b")];
    let (outcome, _) = call(&chain(), &providers, &request("a")).await;
    assert_eq!(answer(&outcome).text, "fine");
    assert_eq!(fake.requests_for("a").len(), 1, "auth is not retried");
    let attempt = &outcome.attempts[0];
    assert_eq!(attempt.class, ProviderErrorClass::Auth);
    assert!(attempt.message.contains("HTTP 401"), "{}", attempt.message);
    assert!(
        !attempt.message.contains(KEY),
        "the echoed key is scrubbed: {}",
        attempt.message
    );
    assert!(!format!("{outcome:?}").contains(KEY));

    let mut unset = openai("no-key", &fake, "b");
    unset.key_env = Some("WARREN_TEST_SURELY_UNSET_PROVIDER_KEY".into());
    let before = fake.requests().len();
    let (outcome, _) = call(&chain(), &[unset], &request("b")).await;
    let e = failure(&outcome);
    assert_eq!(e.class, ProviderErrorClass::Auth);
    assert!(
        e.message.contains("WARREN_TEST_SURELY_UNSET_PROVIDER_KEY"),
        "{}",
        e.message
    );
    assert_eq!(fake.requests().len(), before, "nothing sent without a key");
}

#[tokio::test]
async fn hangs_slow_first_tokens_and_stalls_are_timeouts() {
    let fake = FakeProvider::start().await.expect("fake");
    let mut quick = settings();
    quick.retry.max_tries = 1;
    let chain = Chain::with_breakers(quick, Arc::new(Breakers::new(BreakerPolicy::default())))
        .expect("chain");

    fake.script("hang", [Behaviour::hang()]);
    let started = Instant::now();
    let (outcome, _) = call(&chain, &[openai("p", &fake, "hang")], &request("hang")).await;
    let e = failure(&outcome);
    assert_eq!(e.class, ProviderErrorClass::Timeout);
    assert!(e.message.contains("first-byte timeout"), "{}", e.message);
    assert!(started.elapsed() < Duration::from_secs(3));

    fake.script(
        "slow",
        [Behaviour::tokens(["late"]).first_delay(Duration::from_secs(5))],
    );
    let (outcome, _) = call(&chain, &[openai("p", &fake, "slow")], &request("slow")).await;
    assert_eq!(failure(&outcome).class, ProviderErrorClass::Timeout);

    // A first token slower than usual but within the limit is fine.
    fake.script(
        "ok-slow",
        [Behaviour::tokens(["in", " time"]).first_delay(Duration::from_millis(200))],
    );
    let (outcome, _) = call(
        &chain,
        &[openai("p", &fake, "ok-slow")],
        &request("ok-slow"),
    )
    .await;
    assert!(answer(&outcome).first_token_ms.is_some_and(|ms| ms >= 200));

    fake.script(
        "stall",
        [Behaviour::tokens(["half", " an"]).end(End::Stall)],
    );
    let (outcome, deltas) = call(&chain, &[openai("p", &fake, "stall")], &request("stall")).await;
    let e = failure(&outcome);
    assert_eq!(e.class, ProviderErrorClass::Timeout);
    assert!(e.message.contains("between-bytes"), "{}", e.message);
    assert_eq!(e.partial.as_ref().map(|p| p.text.as_str()), Some("half an"));
    assert_eq!(deltas.concat(), "half an");
}

#[tokio::test]
async fn a_mid_stream_disconnect_returns_the_partial_text_and_is_not_retried() {
    let fake = FakeProvider::start().await.expect("fake");
    fake.script(
        "a",
        [Behaviour::tokens(["The ", "answer ", "is"]).end(End::Disconnect)],
    );
    fake.always("b", Behaviour::tokens(["never"]));
    let providers = [openai("first", &fake, "a"), openai("second", &fake, "b")];
    let (outcome, deltas) = call(&chain(), &providers, &request("a")).await;
    let e = failure(&outcome);
    assert_eq!(e.class, ProviderErrorClass::Network);
    let partial = e.partial.as_ref().expect("partial");
    assert_eq!(partial.text, "The answer is");
    assert_eq!(partial.finish_reason, None);
    assert!(partial.usage.counted);
    assert_eq!(partial.usage.output_tokens, 3);
    assert_eq!(deltas.concat(), "The answer is");
    assert_eq!(
        fake.requests_for("a").len(),
        1,
        "text on screens is never retried"
    );
    assert!(
        fake.requests_for("b").is_empty(),
        "nor sent to the next provider"
    );
    assert_eq!(outcome.provider.as_deref(), Some("first"));
}

#[tokio::test]
async fn a_malformed_event_is_a_bad_response() {
    let fake = FakeProvider::start().await.expect("fake");
    // Before any text: transient, so retried, and the retry answers.
    fake.script(
        "a",
        [
            Behaviour::tokens(Vec::<String>::new()).end(End::Malformed),
            Behaviour::tokens(["fixed"]),
        ],
    );
    let (outcome, _) = call(&chain(), &[openai("p", &fake, "a")], &request("a")).await;
    assert_eq!(answer(&outcome).text, "fixed");
    assert_eq!(outcome.attempts[0].class, ProviderErrorClass::BadResponse);
    assert!(outcome.attempts[0].message.contains("does not parse"));

    // After text: the partial is returned.
    fake.script("b", [Behaviour::tokens(["so far"]).end(End::Malformed)]);
    let (outcome, _) = call(&chain(), &[openai("p", &fake, "b")], &request("b")).await;
    let e = failure(&outcome);
    assert_eq!(e.class, ProviderErrorClass::BadResponse);
    assert_eq!(e.partial.as_ref().map(|p| p.text.as_str()), Some("so far"));

    // A wrong base URL (the fake answers 404) is a refused request: not retried.
    let mut wrong = openai("wrong", &fake, "a");
    wrong.base_url = format!("http://{}/nowhere", fake.addr());
    let (outcome, _) = call(&chain(), &[wrong], &request("a")).await;
    let e = failure(&outcome);
    assert_eq!(e.class, ProviderErrorClass::BadRequest, "{}", e.message);
}

#[tokio::test]
async fn the_breaker_opens_skips_probes_after_its_cool_down_and_closes() {
    let fake = FakeProvider::start().await.expect("fake");
    let cool_down = Duration::from_millis(400);
    let breakers = Arc::new(Breakers::new(BreakerPolicy {
        failures_to_open: 2,
        cool_down,
        degraded_for: Duration::from_secs(60),
    }));
    let mut one_try = settings();
    one_try.retry.max_tries = 1;
    let chain = Chain::with_breakers(one_try, breakers.clone()).expect("chain");
    fake.always("a", Behaviour::status(503));
    fake.always("b", Behaviour::tokens(["spare"]));
    let providers = [openai("flaky", &fake, "a"), openai("spare", &fake, "b")];

    let (outcome, _) = call(&chain, &providers, &request("a")).await;
    assert_eq!(outcome.provider.as_deref(), Some("spare"));
    assert_eq!(breakers.health("flaky").state, HealthState::Degraded);
    let (_, _) = call(&chain, &providers, &request("a")).await;
    let opened = Instant::now();
    let health = breakers.health("flaky");
    assert_eq!(health.state, HealthState::CircuitOpen);
    assert_eq!(
        health.last_error.as_ref().map(|e| e.class),
        Some(ProviderErrorClass::Server)
    );
    assert_eq!(fake.requests_for("a").len(), 2);

    // Open: skipped without a request, and the attempt says why.
    let (outcome, _) = call(&chain, &providers, &request("a")).await;
    assert_eq!(answer(&outcome).text, "spare");
    assert_eq!(fake.requests_for("a").len(), 2, "skipped while open");
    assert!(
        outcome.attempts[0].message.contains("circuit open"),
        "{:?}",
        outcome.attempts
    );
    assert_eq!(outcome.attempts[0].class, ProviderErrorClass::Server);

    // After the cool-down (a time the test set, not a guess) one probe goes through; it succeeds
    // and the circuit closes.
    fake.always("a", Behaviour::tokens(["back"]));
    tokio::time::sleep_until(opened + cool_down).await;
    let (outcome, _) = call(&chain, &providers, &request("a")).await;
    assert_eq!(answer(&outcome).text, "back");
    assert_eq!(outcome.provider.as_deref(), Some("flaky"));
    assert_eq!(fake.requests_for("a").len(), 3);
    let health = breakers.health("flaky");
    assert_eq!(
        health.state,
        HealthState::Degraded,
        "closed, with a recent failure"
    );
    assert_eq!(health.consecutive_failures, 0);
}

#[tokio::test]
async fn a_cancel_mid_stream_returns_promptly_with_the_partial_text() {
    let fake = FakeProvider::start().await.expect("fake");
    let tokens: Vec<String> = (0..200).map(|i| format!("t{i} ")).collect();
    fake.script(
        "m",
        [Behaviour::tokens(tokens).token_delay(Duration::from_millis(20))],
    );
    fake.always("spare", Behaviour::tokens(["never"]));
    let (cancel_tx, cancel) = Cancel::pair();
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel::<String>();
    let providers = [openai("p", &fake, "m"), openai("spare", &fake, "spare")];
    let chain = chain();
    let req = request("m");
    let call = chain.call(&providers, &req, &cancel, move |d: &str| {
        let _ = seen_tx.send(d.to_string());
    });
    let canceller = async {
        for _ in 0..3 {
            seen_rx.recv().await.expect("a delta");
        }
        let _ = cancel_tx.send(true);
        Instant::now()
    };
    let (outcome, cancelled_at) = tokio::join!(call, canceller);
    let took = cancelled_at.elapsed();
    // The stream had about 4 s to go; a bound well under that, with room for a loaded machine.
    assert!(
        took < Duration::from_millis(500),
        "returned {took:?} after the cancel"
    );
    let e = failure(&outcome);
    assert_eq!(e.class, ProviderErrorClass::Cancelled);
    let partial = e.partial.as_ref().expect("partial");
    assert!(partial.text.starts_with("t0 t1 t2 "), "{}", partial.text);
    assert!(partial.text.len() < 200 * 3);
    assert!(fake.requests_for("spare").is_empty());
}

#[tokio::test]
async fn keys_never_appear_in_debug_errors_or_attempts() {
    let fake = FakeProvider::start().await.expect("fake");
    fake.always(
        "m",
        Behaviour::status(403).message(&format!("key {KEY} is revoked")),
    );
    let p = openai("p", &fake, "m");
    assert!(!format!("{p:?}").contains(KEY));
    let (outcome, _) = call(&chain(), std::slice::from_ref(&p), &request("m")).await;
    let e = failure(&outcome);
    assert_eq!(e.class, ProviderErrorClass::Auth);
    assert!(e.message.contains("***"), "{}", e.message);
    for text in [
        format!("{outcome:?}"),
        e.to_string(),
        format!("{chain:?}", chain = chain()),
    ] {
        assert!(!text.contains(KEY), "{text}");
    }
}

/// Not a pass/fail check: the cost of the stream path per token (HTTP, SSE parsing, decoding,
/// the delta callback), printed for docs/performance.md. Run with `--nocapture`.
#[tokio::test]
async fn sse_overhead_per_token() {
    let fake = FakeProvider::start().await.expect("fake");
    const N: usize = 2_000;
    let tokens: Vec<String> = (0..N).map(|i| format!(" tok{i}")).collect();
    let mut best = Duration::MAX;
    for round in 0..5 {
        let model = format!("bench{round}");
        fake.script(&model, [Behaviour::tokens(tokens.clone())]);
        let mut count = 0usize;
        let started = Instant::now();
        let outcome = chain()
            .call(
                &[openai("p", &fake, &model)],
                &request(&model),
                &Cancel::never(),
                |_: &str| count += 1,
            )
            .await;
        let took = started.elapsed();
        assert_eq!(
            answer(&outcome).text.len(),
            tokens.iter().map(String::len).sum::<usize>()
        );
        assert_eq!(count, N);
        best = best.min(took);
    }
    println!(
        "sse_overhead_per_token: {N} tokens streamed over loopback HTTP in {best:?} (best of 5): {:.2} µs a token, fake server included",
        best.as_secs_f64() * 1e6 / N as f64
    );
}

#[tokio::test]
async fn every_dialect_classifies_refusals_and_reads_their_message() {
    let fake = FakeProvider::start().await.expect("fake");
    let mut one_try = settings();
    one_try.retry.max_tries = 1;
    let chain = Chain::with_breakers(one_try, Arc::new(Breakers::new(BreakerPolicy::default())))
        .expect("chain");
    for kind in ProviderKind::ALL {
        for (status, class) in [
            (401, ProviderErrorClass::Auth),
            (429, ProviderErrorClass::RateLimit),
            (503, ProviderErrorClass::Server),
            (400, ProviderErrorClass::BadRequest),
        ] {
            let model = format!("refuse-{}-{status}", kind.as_str());
            fake.script(
                &model,
                [Behaviour::status(status).message("the reason in the body")],
            );
            let p = provider(kind.as_str(), kind, &fake, &model);
            let (outcome, _) = call(&chain, &[p], &request(&model)).await;
            let e = failure(&outcome);
            assert_eq!(e.class, class, "{kind:?} {status}: {}", e.message);
            assert!(
                e.message.contains(&format!("HTTP {status}"))
                    && e.message.ends_with("the reason in the body"),
                "{kind:?}: {}",
                e.message
            );
        }
    }
}
