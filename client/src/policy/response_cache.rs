//! The answer cache behind `fallback: cached`: the last good answer per
//! prompt key (model + messages), kept for a TTL, at most `max_entries` of
//! them (the oldest insertion goes first). Pure: every call takes `now`.
//!
//! Only non-streamed answers are cached; a streamed call whose class falls
//! back to the cache is answered from a non-streamed answer of the same key,
//! or not at all.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::time::Duration;

use tokio::time::Instant;

use crate::types::{ChatRequest, ChatResponse};

/// The cache key of a request: its model and messages (not sampling
/// settings or the priority).
pub fn prompt_key(req: &ChatRequest) -> u64 {
    let mut h = DefaultHasher::new();
    req.model.as_str().hash(&mut h);
    // Messages have no Hash (they hold floats elsewhere in the request, and
    // tool calls as JSON); their JSON form is stable for equal values.
    serde_json::to_string(&req.messages)
        .unwrap_or_default()
        .hash(&mut h);
    h.finish()
}

/// Bounded, TTL-limited map from prompt key to the last good answer.
#[derive(Debug)]
pub struct ResponseCache {
    ttl: Duration,
    max_entries: usize,
    entries: HashMap<u64, (Instant, ChatResponse)>,
    /// Keys in insertion order, for eviction; a key put again moves to the back.
    order: VecDeque<u64>,
}

impl ResponseCache {
    /// A cache holding at most `max_entries` answers for `ttl` each.
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        ResponseCache {
            ttl,
            max_entries: max_entries.max(1),
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Remembers `resp` as the last good answer for `key`.
    pub fn put(&mut self, key: u64, resp: &ChatResponse, now: Instant) {
        if self.entries.insert(key, (now, resp.clone())).is_some() {
            self.order.retain(|k| *k != key);
        }
        self.order.push_back(key);
        while self.entries.len() > self.max_entries {
            match self.order.pop_front() {
                Some(old) => {
                    self.entries.remove(&old);
                }
                None => break,
            }
        }
    }

    /// The answer for `key` if one was stored less than `ttl` ago.
    pub fn get(&self, key: u64, now: Instant) -> Option<&ChatResponse> {
        self.entries
            .get(&key)
            .filter(|(at, _)| now.saturating_duration_since(*at) < self.ttl)
            .map(|(_, r)| r)
    }

    /// Answers held (fresh or not).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Message, Model};

    fn answer(id: &str) -> ChatResponse {
        ChatResponse {
            id: id.to_owned(),
            ..crate::fallback::static_response(id.to_owned())
        }
    }

    #[test]
    fn an_answer_stands_in_only_within_its_ttl() {
        let t0 = Instant::now();
        let mut c = ResponseCache::new(Duration::from_secs(10), 8);
        c.put(1, &answer("a"), t0);
        assert_eq!(
            c.get(1, t0 + Duration::from_secs(9)).map(|r| r.id.as_str()),
            Some("a")
        );
        assert!(c.get(1, t0 + Duration::from_secs(10)).is_none(), "expired");
        assert!(c.get(2, t0).is_none(), "another prompt");
        c.put(1, &answer("b"), t0 + Duration::from_secs(20));
        assert_eq!(
            c.get(1, t0 + Duration::from_secs(21))
                .map(|r| r.id.as_str()),
            Some("b"),
            "the last good answer wins"
        );
    }

    #[test]
    fn the_oldest_insertion_is_evicted_beyond_max_entries() {
        let t0 = Instant::now();
        let mut c = ResponseCache::new(Duration::from_secs(60), 2);
        c.put(1, &answer("1"), t0);
        c.put(2, &answer("2"), t0);
        c.put(1, &answer("1b"), t0); // 1 is now the newest
        c.put(3, &answer("3"), t0);
        assert_eq!(c.len(), 2);
        assert!(c.get(2, t0).is_none());
        assert!(c.get(1, t0).is_some() && c.get(3, t0).is_some());
    }

    #[test]
    fn the_key_is_model_and_messages() {
        let a = ChatRequest::new(Model::V4Flash, vec![Message::user("hi")]);
        let mut b = a.clone();
        b.max_tokens = Some(5);
        b.priority = crate::policy::priority::Priority::High;
        assert_eq!(prompt_key(&a), prompt_key(&b));
        let c = ChatRequest::new(Model::V4Pro, vec![Message::user("hi")]);
        let d = ChatRequest::new(Model::V4Flash, vec![Message::user("ho")]);
        assert_ne!(prompt_key(&a), prompt_key(&c));
        assert_ne!(prompt_key(&a), prompt_key(&d));
    }
}
