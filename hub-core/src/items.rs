//! Values attached to a connection for its lifetime (ASP.NET's `Context.Items`).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

/// Per-connection values, one per type (like `http::Extensions`).
#[derive(Default)]
pub struct Items {
    values: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
}

impl Items {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TypeId, Box<dyn Any + Send + Sync>>> {
        self.values.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `value`, returning the previous value of that type.
    pub fn insert<T: Any + Send + Sync>(&self, value: T) -> Option<T> {
        self.lock()
            .insert(TypeId::of::<T>(), Box::new(value))
            .and_then(|old| old.downcast().ok().map(|old| *old))
    }

    /// A clone of the value of type `T`.
    pub fn get<T: Any + Send + Sync + Clone>(&self) -> Option<T> {
        self.lock()
            .get(&TypeId::of::<T>())
            .and_then(|value| value.downcast_ref::<T>())
            .cloned()
    }

    /// Removes and returns the value of type `T`.
    pub fn remove<T: Any + Send + Sync>(&self) -> Option<T> {
        self.lock()
            .remove(&TypeId::of::<T>())
            .and_then(|old| old.downcast().ok().map(|old| *old))
    }

    /// Runs `f` on the value of type `T` (inserting `T::default()` first if absent).
    /// `f` runs under the items lock: keep it short and never await in it.
    pub fn update<T: Any + Send + Sync + Default, R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut values = self.lock();
        let value = values
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(T::default()));
        f(value
            .downcast_mut::<T>()
            .expect("items are keyed by their type"))
    }
}

impl std::fmt::Debug for Items {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Items")
            .field("len", &self.lock().len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_are_keyed_by_type() {
        let items = Items::default();
        assert_eq!(items.insert(5u32), None);
        assert_eq!(items.insert(6u32), Some(5));
        items.insert(String::from("x"));
        assert_eq!(items.get::<u32>(), Some(6));
        assert_eq!(
            items.update(|n: &mut u32| {
                *n += 1;
                *n
            }),
            7
        );
        assert_eq!(items.remove::<String>().as_deref(), Some("x"));
        assert_eq!(items.get::<String>(), None);
    }
}
