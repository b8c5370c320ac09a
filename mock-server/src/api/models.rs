//! The models the fake serves, in one table: each name, the model it is
//! served as, its default thinking mode, and whether it is a retired alias.
//! Request validation, `GET /models`, capacity keys and the scenario check
//! of `capacity.per_model` all read it.

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// One model name the API accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Model {
    /// The name as requested (and echoed in replies).
    pub name: &'static str,
    /// The model it is served as: the capacity key.
    pub canonical: &'static str,
    /// Thinking mode unless the request says otherwise.
    pub thinking: bool,
    /// A retired alias (`retired_models: reject` refuses it).
    pub retired: bool,
}

const FLASH: &str = "deepseek-v4-flash";
const PRO: &str = "deepseek-v4-pro";

/// Every accepted name; the served (not retired) ones in `/models` order.
pub const MODELS: [Model; 4] = [
    Model {
        name: FLASH,
        canonical: FLASH,
        thinking: false,
        retired: false,
    },
    Model {
        name: PRO,
        canonical: PRO,
        thinking: true,
        retired: false,
    },
    Model {
        name: "deepseek-chat",
        canonical: FLASH,
        thinking: false,
        retired: true,
    },
    Model {
        name: "deepseek-reasoner",
        canonical: FLASH,
        thinking: true,
        retired: true,
    },
];

/// What the server does with the retired model names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetiredModels {
    /// Serve them as aliases of their canonical model (the default).
    #[default]
    Accept,
    /// Answer 400 "Model Not Exist", as for any unknown model.
    Reject,
}

/// The model behind a requested name, or `None` for an unknown (or a
/// rejected retired) name.
pub fn resolve(name: &str, retired: RetiredModels) -> Option<&'static Model> {
    MODELS
        .iter()
        .find(|m| m.name == name && !(m.retired && retired == RetiredModels::Reject))
}

/// The canonical model behind a name, retired aliases included.
pub fn canonical(name: &str) -> Option<&'static str> {
    resolve(name, RetiredModels::Accept).map(|m| m.canonical)
}

/// Every accepted name as a sentence: `a, b, c or d`.
pub fn names() -> String {
    let names: Vec<&str> = MODELS.iter().map(|m| m.name).collect();
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.concat(),
    }
}

/// The body of `GET /models`: the served models, built once.
pub fn list_body() -> Bytes {
    #[derive(Serialize)]
    struct Entry {
        id: &'static str,
        object: &'static str,
        owned_by: &'static str,
    }
    #[derive(Serialize)]
    struct List {
        object: &'static str,
        data: Vec<Entry>,
    }
    static BODY: OnceLock<Bytes> = OnceLock::new();
    BODY.get_or_init(|| {
        let list = List {
            object: "list",
            data: MODELS
                .iter()
                .filter(|m| !m.retired)
                .map(|m| Entry {
                    id: m.name,
                    object: "model",
                    owned_by: "deepseek",
                })
                .collect(),
        };
        Bytes::from(serde_json::to_vec(&list).unwrap_or_default())
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retired_aliases_follow_the_setting() {
        let chat = resolve("deepseek-chat", RetiredModels::Accept).unwrap();
        assert_eq!((chat.canonical, chat.thinking), (FLASH, false));
        assert!(resolve("deepseek-chat", RetiredModels::Reject).is_none());
        assert_eq!(resolve(PRO, RetiredModels::Reject).unwrap().canonical, PRO);
        assert_eq!(canonical("deepseek-reasoner"), Some(FLASH));
        assert_eq!(canonical("gpt-4"), None);
    }

    #[test]
    fn models_body_lists_the_served_models_in_order() {
        assert_eq!(
            &list_body()[..],
            br#"{"object":"list","data":[{"id":"deepseek-v4-flash","object":"model","owned_by":"deepseek"},{"id":"deepseek-v4-pro","object":"model","owned_by":"deepseek"}]}"#
        );
        assert_eq!(
            names(),
            "deepseek-v4-flash, deepseek-v4-pro, deepseek-chat or deepseek-reasoner"
        );
    }
}
