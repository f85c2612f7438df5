"""Curation: the study file, datasets by family, batch evaluation and the report by family.

Public API (import from the submodules):
- `study.Study.open(path, create=False)`: the SQLite study (grids, variants, references,
  datasets, models, runs, annotations, sweeps); `study.grid_hash`, `study.model_sha256`,
  `study.check_study`, `study.inspect_study`
- `families.family_name(outages, perturbation)`: a variant's family, its one split name
  (N, N-1, load:0.1, N-1+load:0.1, ...) in datasets, `study info`, `study runs`, reports
- `dataset.build_dataset(...)`, `dataset.export_jsonl`, `dataset.import_jsonl`,
  `dataset.read_jsonl` (the `n1studio.case/1` record format is documented there)
- `evaluate.run_eval(study, dataset_id, models, settings, ...) -> EvalSummary`,
  `evaluate.run_eval_datasets(study, dataset_ids, ...)` (every dataset, as `eval` does)
- `report.build_report(study, dataset_id)`, `report.write_report(report, out_dir)`,
  `report.report_svg` (plot.py), `report.report_html`, `report.report_text`;
  `stats`: the intervals (Student t, Wilson, Newcombe, Welch, paired)
- `progress.ProgressBar`: the command line's progress bar

The N-1 sweep itself is `n1studio.solve.sweep.run_sweep`.
"""
