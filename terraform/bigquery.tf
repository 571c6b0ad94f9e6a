locals {
  schema_files = fileset("${path.module}/../schemas", "*.json")
  # Day partition on the table's time column, clustering on its keys (resources.json).
  table_layout = local.resources.tables
  # Window rows revised by late events (late: update) carry row_revision: the _latest view keeps the highest.
  revised_tables = [for f in local.schema_files : trimsuffix(f, ".json") if contains([for c in jsondecode(file("${path.module}/../schemas/${f}")) : c.name], "row_revision")]
}

resource "google_bigquery_dataset" "speedcam" {
  dataset_id = var.dataset
  location   = var.bigquery_location
  depends_on = [google_project_service.apis]
}

resource "google_bigquery_table" "tables" {
  for_each            = { for f in local.schema_files : trimsuffix(f, ".json") => f }
  dataset_id          = google_bigquery_dataset.speedcam.dataset_id
  table_id            = each.key
  schema              = file("${path.module}/../schemas/${each.value}")
  deletion_protection = true
  clustering          = length(local.table_layout[each.key].cluster) > 0 ? local.table_layout[each.key].cluster : null

  dynamic "time_partitioning" {
    for_each = local.table_layout[each.key].time == null ? [] : [local.table_layout[each.key].time]
    content {
      type  = "DAY"
      field = time_partitioning.value
    }
  }
}

# Streaming inserts deduplicate on insertId only within about a minute: a flush retried later can land a
# row twice. Each table has a view that keeps one row per row_id (resources.json latest_view); a filter on
# the table's time column prunes partitions through it. Analysts query the views.
resource "google_bigquery_table" "latest" {
  for_each            = google_bigquery_table.tables
  dataset_id          = google_bigquery_dataset.speedcam.dataset_id
  table_id            = "${each.key}_latest"
  deletion_protection = false
  view {
    use_legacy_sql = false
    query = replace(replace(
      replace(local.resources.latest_view.query, "{partition_by}", join(", ", compact(["row_id", local.table_layout[each.key].time]))),
      "{order_by}", contains(local.revised_tables, each.key) ? " ORDER BY row_revision DESC" : ""),
      "{table}", "${var.project_id}.${var.dataset}.${each.key}",
    )
  }
}
