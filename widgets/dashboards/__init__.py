"""One module per notebook, named after it: `widgets.dashboards.logistic_regression` holds the dashboards of
`01_logistic_regression.ipynb`. Every public `*_dashboard()` function returns (and does not display) a
`widgets.dashboard.Dashboard`, built from the shared toolkit: controls, the training panel, views."""
