"""lab.data.faces: scikit-image's 200 real photos, face or not, as train/test and train/dev/test."""

import torch

from lab.data.faces import face_images, load_faces, load_faces_three_way


def test_faces_are_real_photos_in_the_course_layout():
    data = load_faces()
    assert data.X_train.shape == (625, 150) and data.Y_train.shape == (1, 150)
    assert data.X_test.shape == (625, 50) and data.Y_test.shape == (1, 50)
    assert data.image_shape == (25, 25)
    assert data.X_train.min() >= 0.0 and data.X_train.max() <= 1.0
    assert data.X_train.std() > 0.1  # real photos, not a constant
    assert data.Y_train.sum() + data.Y_test.sum() == 100  # 100 faces in all
    assert data.class_names == ("not a face", "face")


def test_face_images_are_200_grey_25_by_25_photos_the_first_100_faces():
    images, labels = face_images()
    assert images.shape == (200, 25, 25) and labels.tolist() == [1.0] * 100 + [0.0] * 100
    assert images.min().item() >= 0.0 and images.max().item() <= 1.0


def test_faces_keep_the_dtype_and_each_column_is_one_photo():
    data = load_faces(dtype=torch.float64)
    assert data.X_train.dtype == torch.float64 and data.Y_train.dtype == torch.float64
    images, _ = face_images()
    photos = {tuple(img.flatten().tolist()) for img in images.double()}
    assert all(tuple(col.tolist()) in photos for col in data.X_test.T)


def test_three_way_faces_are_seeded_and_use_every_photo_once():
    faces = load_faces_three_way()
    assert faces.X_train.shape == (625, 100) and faces.X_dev.shape == (625, 50) and faces.image_shape == (25, 25)
    assert faces.class_names == ("not a face", "face")
    assert sum(s.sum().item() for s in (faces.Y_train, faces.Y_dev, faces.Y_test)) == 100
    assert torch.equal(load_faces_three_way(seed=0).X_dev, faces.X_dev)
    assert not torch.equal(load_faces_three_way(seed=1).X_dev, faces.X_dev)
