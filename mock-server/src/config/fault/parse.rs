//! Reading a [`Fault`] from YAML: the one-key map naming its kind (or a bare
//! kind name), then the kind's settings map together with the two keys every
//! kind shares, `rate` and `nodes`, without the settings structs repeating
//! them.
//!
//! The kind's derived `Deserialize` drives the settings map as usual; a wrapping
//! `MapAccess` takes `rate` and `nodes` out of the key stream on the way.
//! Keys and values are still read from the original deserializer, so errors
//! keep their line, column and field path, and an unknown key lists the
//! kind's own fields followed by `rate` and `nodes`, as before.

use super::kinds::{FaultKind, FaultParams, NAMES};
use super::Fault;
use crate::config::units::Probability;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};
use serde::Deserialize;
use std::fmt;

// A hand-written one-key map visitor: serde_yaml 0.9 would want `!tag` syntax
// for a derived enum, and going through the map keeps line/column exact.
impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> de::Visitor<'de> for V {
            type Value = Fault;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a fault such as `{status: {code: 429}}` or `{reset: {}}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Fault, E> {
                // `- reset` as shorthand for `- reset: {}`, for every kind
                // whose settings all have defaults.
                let Some(kind) = FaultKind::from_name(v) else {
                    return Err(E::unknown_variant(v, NAMES));
                };
                let empty = de::value::MapDeserializer::<_, de::value::Error>::new(
                    std::iter::empty::<((), ())>(),
                );
                Settings(kind)
                    .deserialize(empty)
                    .map_err(|_| E::custom(format!("`{v}` needs settings, e.g. `{v}: {{...}}`")))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Fault, A::Error> {
                let key: String = map
                    .next_key()?
                    .ok_or_else(|| de::Error::custom("a fault needs one kind key"))?;
                let Some(kind) = FaultKind::from_name(&key) else {
                    return Err(de::Error::unknown_variant(&key, NAMES));
                };
                let fault = map.next_value_seed(Settings(kind))?;
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "a fault has exactly one kind key, found `{key}` and `{extra}` (put `rate` and `nodes` inside `{key}: {{...}}`)"
                    )));
                }
                Ok(fault)
            }
        }
        d.deserialize_any(V)
    }
}

/// Seed for the value under a kind key: `status: {code: 503, rate: 10%}`.
struct Settings(FaultKind);

/// `rate` and `nodes` as read so far; `None` = not given.
#[derive(Default)]
struct Shared {
    rate: Option<Probability>,
    nodes: Option<Option<Vec<usize>>>,
}

impl<'de> DeserializeSeed<'de> for Settings {
    type Value = Fault;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Fault, D::Error> {
        let mut shared = Shared::default();
        let params = FaultParams::deserialize_as(
            self.0,
            Scoped {
                inner: d,
                kind: self.0,
                shared: &mut shared,
            },
        )?;
        Ok(Fault {
            rate: shared.rate.unwrap_or_default(),
            nodes: shared.nodes.flatten(),
            params,
        })
    }
}

/// The deserializer a settings struct sees: the real one, with its map
/// visitor wrapped.
struct Scoped<'a, D> {
    inner: D,
    kind: FaultKind,
    shared: &'a mut Shared,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Scoped<'_, D> {
    type Error = D::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        let wrapped = ScopedVisitor {
            inner: visitor,
            kind: self.kind,
            fields,
            shared: self.shared,
        };
        self.inner.deserialize_struct(name, fields, wrapped)
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.deserialize_struct("", &[], visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

struct ScopedVisitor<'a, V> {
    inner: V,
    kind: FaultKind,
    fields: &'static [&'static str],
    shared: &'a mut Shared,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for ScopedVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a map of `{}` settings", self.kind.name())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.inner.visit_map(SharedKeys {
            map,
            fields: self.fields,
            shared: self.shared,
        })
    }
}

/// The settings map minus `rate` and `nodes`, which it stores aside.
struct SharedKeys<'a, A> {
    map: A,
    fields: &'static [&'static str],
    shared: &'a mut Shared,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for SharedKeys<'_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        loop {
            match self.map.next_key_seed(KeySeed(self.fields))? {
                None => return Ok(None),
                Some(Key::Rate) if self.shared.rate.is_some() => {
                    return Err(de::Error::duplicate_field("rate"))
                }
                Some(Key::Rate) => self.shared.rate = Some(self.map.next_value()?),
                Some(Key::Nodes) if self.shared.nodes.is_some() => {
                    return Err(de::Error::duplicate_field("nodes"))
                }
                Some(Key::Nodes) => self.shared.nodes = Some(self.map.next_value()?),
                Some(Key::Own(name)) => {
                    return seed
                        .deserialize(IntoDeserializer::<A::Error>::into_deserializer(name))
                        .map(Some)
                }
            }
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }
}

enum Key {
    Rate,
    Nodes,
    Own(&'static str),
}

/// Reads a key of the settings map; an unknown key fails here, while the
/// key is being read, as a derived struct's would.
struct KeySeed(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
        match v {
            "rate" => Ok(Key::Rate),
            "nodes" => Ok(Key::Nodes),
            _ => match self.0.iter().find(|f| **f == v) {
                Some(own) => Ok(Key::Own(own)),
                None => Err(E::custom(unknown_field(v, self.0))),
            },
        }
    }
}

/// serde's own wording for an unknown field, with `rate` and `nodes` last.
fn unknown_field(field: &str, own: &[&str]) -> String {
    let names: Vec<String> = own
        .iter()
        .chain(&["rate", "nodes"])
        .map(|n| format!("`{n}`"))
        .collect();
    match names.as_slice() {
        [a, b] => format!("unknown field `{field}`, expected {a} or {b}"),
        _ => format!(
            "unknown field `{field}`, expected one of {}",
            names.join(", ")
        ),
    }
}
