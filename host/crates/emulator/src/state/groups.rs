//! The groups store: the account's tree of server groups in every data center.

use std::collections::BTreeMap;
use std::ops::Deref;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Refusal, new_id};

/// A group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct GroupRec {
    pub id: String,
    pub name: String,
    pub description: String,
    pub dc: String,
    pub kind: String,
    pub parent: Option<String>,
    pub children: Vec<String>,
    pub created: DateTime<Utc>,
    pub modified: DateTime<Utc>,
}

/// Every group by id. Reads go through the map; changes through the store, which keeps
/// parents and children in step.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Groups {
    map: BTreeMap<String, GroupRec>,
}

impl Deref for Groups {
    type Target = BTreeMap<String, GroupRec>;

    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl Groups {
    pub fn get_mut(&mut self, id: &str) -> Option<&mut GroupRec> {
        self.map.get_mut(id)
    }

    pub fn insert(
        &mut self,
        parent: Option<&str>,
        name: &str,
        description: &str,
        dc: &str,
        kind: &str,
        now: DateTime<Utc>,
    ) -> String {
        let id = new_id();
        self.map.insert(
            id.clone(),
            GroupRec {
                id: id.clone(),
                name: name.to_string(),
                description: description.to_string(),
                dc: dc.to_string(),
                kind: kind.to_string(),
                parent: parent.map(str::to_string),
                children: Vec::new(),
                created: now,
                modified: now,
            },
        );
        if let Some(p) = parent
            && let Some(pg) = self.map.get_mut(p)
        {
            pg.children.push(id.clone());
        }
        id
    }

    pub fn root(&self, dc: &str) -> Option<&GroupRec> {
        self.map
            .values()
            .find(|g| g.parent.is_none() && g.dc.eq_ignore_ascii_case(dc))
    }

    #[cfg(test)]
    pub fn default_group(&self, dc: &str) -> Option<&GroupRec> {
        let root = self.root(dc)?;
        root.children
            .iter()
            .filter_map(|c| self.map.get(c))
            .find(|g| g.name == "Default Group")
    }

    /// The group and every descendant, depth-first, the group first.
    pub fn subtree(&self, group: &str) -> Vec<&GroupRec> {
        let mut out = Vec::new();
        let mut stack = vec![group.to_string()];
        while let Some(id) = stack.pop() {
            if let Some(g) = self.map.get(&id) {
                out.push(g);
                stack.extend(g.children.iter().rev().cloned());
            }
        }
        out
    }

    /// Checks a new group's name and parent (every problem at once, as the real API
    /// reports them); returns the parent.
    pub fn check_new(&self, name: &str, parent: &str) -> Result<GroupRec, Refusal> {
        let mut errors = BTreeMap::new();
        if name.trim().is_empty() {
            errors.insert(
                "body.name".to_string(),
                vec!["The name field is required.".to_string()],
            );
        } else if name.len() > 200 {
            errors.insert(
                "body.name".to_string(),
                vec!["The name is too long.".to_string()],
            );
        }
        let parent_rec = self.map.get(parent).cloned();
        if parent_rec.is_none() {
            errors.insert(
                "body.parentGroupId".to_string(),
                vec![format!("The parent group '{parent}' does not exist.")],
            );
        }
        if !errors.is_empty() {
            return Err(Refusal::Invalid(errors));
        }
        let p = parent_rec.expect("checked");
        if p.children
            .iter()
            .filter_map(|c| self.map.get(c))
            .any(|g| g.name.eq_ignore_ascii_case(name))
        {
            return Err(Refusal::BadRequest(format!(
                "A group named '{name}' already exists in '{}'.",
                p.name
            )));
        }
        Ok(p)
    }

    /// Removes a group and its descendants (their servers must be gone already); returns
    /// the ids removed.
    pub fn remove_subtree(&mut self, id: &str) -> Vec<String> {
        let ids: Vec<String> = self.subtree(id).iter().map(|g| g.id.clone()).collect();
        if let Some(parent) = self.map.get(id).and_then(|g| g.parent.clone())
            && let Some(p) = self.map.get_mut(&parent)
        {
            p.children.retain(|c| c != id);
        }
        for g in &ids {
            self.map.remove(g);
        }
        ids
    }
}
