//! Sends one prompt and prints the answer.
//!
//! ```sh
//! DEEPSEEK_API_KEY=sk-... cargo run -p resilient-client --example chat -- "Why is the sky blue?"
//! DEEPSEEK_BASE_URL=http://127.0.0.1:8080 DEEPSEEK_API_KEY=x \
//!   cargo run -p resilient-client --example chat -- --stream --model deepseek-v4-pro "Hi"
//! ```
//! `DEEPSEEK_BASE_URL` defaults to `https://api.deepseek.com`. Reasoning
//! text (if any) goes to stderr, the answer to stdout, the call record last.

use std::io::Write;

use futures::StreamExt;
use resilient_client::{ChatRequest, Client, ClientConfig, Message, Model};

#[tokio::main]
async fn main() {
    // Display, not Debug: errors read as sentences (and never hold the key).
    if let Err(e) = run().await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut stream = false;
    let mut model = Model::V4Flash;
    let mut prompt = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--stream" => stream = true,
            "--model" => model = Model::from_name(&args.next().ok_or("--model needs a value")?),
            "-h" | "--help" => {
                println!("usage: chat [--stream] [--model NAME] PROMPT...");
                return Ok(());
            }
            _ => prompt.push(a),
        }
    }
    if prompt.is_empty() {
        return Err("usage: chat [--stream] [--model NAME] PROMPT...".into());
    }
    let base = std::env::var("DEEPSEEK_BASE_URL")
        .unwrap_or_else(|_| "https://api.deepseek.com".to_owned());
    let client = Client::builder(ClientConfig::default())
        .endpoints(vec![base])
        .build()?;
    let req = ChatRequest::new(model, vec![Message::user(prompt.join(" "))]);

    if !stream {
        let resp = client.chat(req).await?;
        if let Some(r) = resp.reasoning_content() {
            eprintln!("[reasoning] {r}");
        }
        println!("{}", resp.content().unwrap_or(""));
        eprintln!(
            "[{} attempt(s), trace {}]",
            resp.meta.attempts, resp.meta.trace_id
        );
        return Ok(());
    }
    let mut s = client.chat_stream(req).await?;
    let meta = s.meta().clone();
    let mut out = std::io::stdout().lock();
    while let Some(chunk) = s.next().await {
        let chunk = chunk?;
        if let Some(r) = chunk.reasoning_content() {
            eprint!("{r}");
        }
        if let Some(t) = chunk.content() {
            write!(out, "{t}")?;
            out.flush()?;
        }
    }
    writeln!(out)?;
    eprintln!("[{} attempt(s), trace {}]", meta.attempts, meta.trace_id);
    Ok(())
}
