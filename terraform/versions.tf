terraform {
  required_version = ">= 1.5"
  required_providers {
    google = {
      source = "hashicorp/google"
      # Checked offline against hashicorp/google 6.50's schema (@cdktf/provider-google 16.12.1, test/unit/deploy/terraform-schema.test.ts);
      # 7.x changes defaults and removes attributes: raise this bound only after re-running that check against 7.x.
      version = ">= 6.0, < 7.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4, < 3.0"
    }
    time = {
      source  = "hashicorp/time"
      version = ">= 0.9, < 1.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}
