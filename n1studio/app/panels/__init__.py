"""The side panels, one module each: variants, inspector, verdict, model, the reference
progress bar; `tables` holds the table widget they share."""
