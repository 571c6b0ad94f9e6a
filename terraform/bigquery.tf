locals {
  schema_files = fileset("${path.module}/../schemas", "*.json")
  # Day partition on the table's time column, clustering on its keys (resources.json).
  table_layout = local.resources.tables
  # CDC: the primary key the Storage Write API's upserts go by, and each table's max_staleness (resources.json cdc).
  cdc = local.resources.cdc
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
  max_staleness       = lookup(local.cdc.max_staleness, each.key, local.cdc.max_staleness.default)

  # The flush writes Storage Write API CDC upserts (docs/bigquery.md): one row per row_id in the table itself.
  table_constraints {
    primary_key {
      columns = local.cdc.primary_key
    }
  }

  dynamic "time_partitioning" {
    for_each = local.table_layout[each.key].time == null ? [] : [local.table_layout[each.key].time]
    content {
      type  = "DAY"
      field = time_partitioning.value
    }
  }
}

# Kept one release as plain aliases (SELECT * FROM the table) for queries written against them: the tables
# are exact themselves, so the views no longer deduplicate (resources.json latest_view).
resource "google_bigquery_table" "latest" {
  for_each            = google_bigquery_table.tables
  dataset_id          = google_bigquery_dataset.speedcam.dataset_id
  table_id            = "${each.key}_latest"
  deletion_protection = false
  view {
    use_legacy_sql = false
    query          = replace(local.resources.latest_view.query, "{table}", "${var.project_id}.${var.dataset}.${each.key}")
  }
}
