//! Tables from Rust: `cargo run --release --example tables`.
//!
//! Creates a table, inserts rows, reads one by id, scans with typed column reads, and
//! exports the table as CSV, on an in-memory heap (use `Engine::open_heap` for a file).

use walia::{Engine, Value};

fn main() -> Result<(), walia::Error> {
    let mut engine = Engine::new();
    engine.open_memory_heap()?;

    engine.create_table("users", &["id", "name", "age", "score"])?;
    for (id, name, age, score) in [
        (1, "Ann", 34, 91.5),
        (2, "Bob", 17, 48.0),
        (3, "Cy", 52, 77.25),
    ] {
        engine.insert(
            "users",
            &[
                ("id", Value::from(id as i64)),
                ("name", Value::from(name)),
                ("age", Value::from(age as i64)),
                ("score", Value::from(score)),
            ],
        )?;
    }

    // A script sees the same table.
    engine.run("db.users.insert({id: 4, name: \"Dee\", age: 29, score: 66.0});")?;

    if let Some(row) = engine.get_row("users", Value::from(2i64))? {
        let fields: Vec<String> = row.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        println!("user 2: {}", fields.join(" "));
    }

    // Typed reads straight from the column pages; return false to stop early.
    let mut adults = 0;
    let mut total = 0.0;
    engine.scan("users", |row| {
        if row.int("age")?.unwrap_or(0) > 18 {
            adults += 1;
            total += row.float("score")?.unwrap_or(0.0);
        }
        Ok(true)
    })?;
    println!("{adults} adults, total score {total}");

    let path = std::env::temp_dir().join(format!("walia-users-{}.csv", std::process::id()));
    let path = path.to_string_lossy().into_owned();
    let rows = engine.export_table("users", &path)?;
    print!(
        "{rows} rows exported:\n{}",
        std::fs::read_to_string(&path).unwrap_or_default()
    );
    let _ = std::fs::remove_file(&path);
    Ok(())
}
