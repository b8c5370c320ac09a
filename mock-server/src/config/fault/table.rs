//! The macro that turns the table of fault kinds (the `fault_kinds!` call in
//! `kinds.rs`) into everything that must agree on the list of kinds: the
//! settings enum [`FaultParams`](super::FaultParams), the counter key
//! [`FaultKind`](super::FaultKind) with its names and order, and the lookups
//! the YAML parser uses. One row per kind:
//!
//! ```text
//! /// What the client sees.
//! Variant = "yaml_key" => SettingsType;
//! ```
//!
//! `SettingsType` is a `Deserialize` struct with only the kind's own fields
//! (`deny_unknown_fields`); `rate` and `nodes` are added by the parser for
//! every kind alike (see `parse.rs`).

macro_rules! fault_kinds {
    ($(
        $(#[$doc:meta])*
        $variant:ident = $name:literal => $settings:ty;
    )*) => {
        /// A fault's own settings, by kind (`rate` and `nodes` live in
        /// [`Fault`](super::Fault), shared by every kind).
        #[derive(Debug, Clone, PartialEq)]
        pub enum FaultParams {
            $( $(#[$doc])* $variant($settings), )*
        }

        /// Fault kinds, the keys of the `by_fault` counters: every scenario
        /// kind, in table order, then `capacity` (a request over a
        /// concurrency cap), which has no YAML form.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum FaultKind {
            $( #[doc = concat!("`", $name, "`")] $variant, )*
            /// `capacity`: a request over a concurrency cap (429 or queued).
            Capacity,
        }

        impl FaultKind {
            /// Every kind, in counter order.
            pub const ALL: [FaultKind; [$($name,)* "capacity"].len()] =
                [$(FaultKind::$variant,)* FaultKind::Capacity];

            /// The YAML key and counter name.
            pub fn name(self) -> &'static str {
                match self {
                    $( FaultKind::$variant => $name, )*
                    FaultKind::Capacity => "capacity",
                }
            }

            /// Index into counter arrays.
            pub fn index(self) -> usize {
                self as usize
            }

            /// The scenario kind written `name` in YAML (`capacity` is none).
            pub fn from_name(name: &str) -> Option<FaultKind> {
                match name {
                    $( $name => Some(FaultKind::$variant), )*
                    _ => None,
                }
            }
        }

        /// YAML keys of the scenario kinds, listed in "unknown variant" errors.
        pub(super) const NAMES: &[&str] = &[$($name),*];

        impl FaultParams {
            /// The kind of these settings.
            pub fn kind(&self) -> FaultKind {
                match self {
                    $( FaultParams::$variant(_) => FaultKind::$variant, )*
                }
            }

            /// Deserializes the settings of `kind` from `d`.
            pub(super) fn deserialize_as<'de, D: serde::Deserializer<'de>>(
                kind: FaultKind,
                d: D,
            ) -> Result<Self, D::Error> {
                match kind {
                    $( FaultKind::$variant => {
                        <$settings as serde::Deserialize>::deserialize(d).map(FaultParams::$variant)
                    } )*
                    FaultKind::Capacity => Err(serde::de::Error::custom(
                        "`capacity` is counted by the server, not written as a fault",
                    )),
                }
            }
        }
    };
}
