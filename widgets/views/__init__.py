"""Plot views on plotly FigureWidget. Each view updates its traces in place inside `batch_update()`."""
