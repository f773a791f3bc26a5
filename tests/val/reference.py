"""A numpy reference of `hubpredict val`'s metrics, ported from Ultralytics'
published algorithm (ultralytics/utils/metrics.py: box_iou, batch_probiou,
kpt_iou, mask_iou, ConfusionMatrix.process_batch, smooth, compute_ap,
ap_per_class, Metric; ultralytics/engine/validator.py: match_predictions),
not from hubpredict's C. Where Ultralytics leaves an order open the sorts are
stable (valmetrics.h: equal confidences keep image then answer order; equal
IoUs: argsort(kind="stable")[::-1], what Ultralytics' [::-1] gives for small
arrays). Run with Debian's python3 (python3-numpy, python3-yaml)."""
import os

import numpy as np
import yaml

OKS_SIGMA = np.array([0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62,
                      1.07, 1.07, 0.87, 0.87, 0.89, 0.89]) / 10.0
IMG_EXT = {"bmp", "dng", "jpeg", "jpg", "mpo", "png", "tif", "tiff", "webp", "pfm", "heic"}


def iouv():
    """torch.linspace(0.5, 0.95, 10) in float32, as Python floats."""
    s, e = np.float32(0.5), np.float32(0.95)
    step = np.float32((e - s) / np.float32(9))
    return [float(s + step * np.float32(i)) if i < 5 else float(e - step * np.float32(9 - i))
            for i in range(10)]


def box_iou(b1, b2, eps=1e-7):
    a1, a2 = b1[:, None, :2], b1[:, None, 2:]
    c1, c2 = b2[None, :, :2], b2[None, :, 2:]
    inter = (np.minimum(a2, c2) - np.maximum(a1, c1)).clip(0).prod(2)
    return inter / ((a2 - a1).prod(2) + (c2 - c1).prod(2) - inter + eps)


def _cov(b):
    a, bb, c = b[:, 2] ** 2 / 12, b[:, 3] ** 2 / 12, b[:, 4]
    cos, sin = np.cos(c), np.sin(c)
    return a * cos ** 2 + bb * sin ** 2, a * sin ** 2 + bb * cos ** 2, (a - bb) * cos * sin


def batch_probiou(o1, o2, eps=1e-7):
    x1, y1 = o1[:, 0:1], o1[:, 1:2]
    x2, y2 = o2[None, :, 0], o2[None, :, 1]
    a1, b1, c1 = (v[:, None] for v in _cov(o1))
    a2, b2, c2 = (v[None] for v in _cov(o2))
    t1 = (((a1 + a2) * (y1 - y2) ** 2 + (b1 + b2) * (x1 - x2) ** 2)
          / ((a1 + a2) * (b1 + b2) - (c1 + c2) ** 2 + eps)) * 0.25
    t2 = (((c1 + c2) * (x2 - x1) * (y1 - y2)) / ((a1 + a2) * (b1 + b2) - (c1 + c2) ** 2 + eps)) * 0.5
    t3 = np.log(((a1 + a2) * (b1 + b2) - (c1 + c2) ** 2)
                / (4 * np.sqrt((a1 * b1 - c1 ** 2).clip(0) * (a2 * b2 - c2 ** 2).clip(0)) + eps)
                + eps) * 0.5
    bd = np.clip(t1 + t2 + t3, eps, 100.0)
    return 1 - np.sqrt(1.0 - np.exp(-bd) + eps)


def kpt_iou(k1, k2, area, sigma, eps=1e-7):
    d = (k1[:, None, :, 0] - k2[..., 0]) ** 2 + (k1[:, None, :, 1] - k2[..., 1]) ** 2
    mask = k1[..., 2] != 0
    e = d / ((2 * sigma) ** 2 * (area[:, None, None] + eps) * 2)
    return (np.exp(-e) * mask[:, None]).sum(-1) / (mask.sum(-1)[:, None] + eps)


def min_area_rect(pts):
    """cx cy w h angle of 4 points: the least-area rectangle on a hull edge
    (monotone chain hull; the first edge on ties)."""
    p = sorted(map(tuple, pts))

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    lower, upper = [], []
    for q in p:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], q) <= 0:
            lower.pop()
        lower.append(q)
    for q in reversed(p):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], q) <= 0:
            upper.pop()
        upper.append(q)
    hull = lower[:-1] + upper[:-1]
    best, out = float("inf"), [hull[0][0], hull[0][1], 0.0, 0.0, 0.0]
    for i in range(len(hull)):
        a, b = hull[i], hull[(i + 1) % len(hull)]
        ln = np.hypot(b[0] - a[0], b[1] - a[1])
        if ln == 0:
            continue
        ux, uy = (b[0] - a[0]) / ln, (b[1] - a[1]) / ln
        u = [(h[0] - a[0]) * ux + (h[1] - a[1]) * uy for h in hull]
        v = [-(h[0] - a[0]) * uy + (h[1] - a[1]) * ux for h in hull]
        area = (max(u) - min(u)) * (max(v) - min(v))
        if area < best:
            best = area
            cu, cv = (min(u) + max(u)) / 2, (min(v) + max(v)) / 2
            out = [a[0] + cu * ux - cv * uy, a[1] + cu * uy + cv * ux, max(u) - min(u),
                   max(v) - min(v), float(np.arctan2(uy, ux))]
    return out


def raster(poly, w, h):
    """The pixels whose centre is inside the polygon (even-odd), w*h bools."""
    m = np.zeros((h, w), bool)
    if len(poly) < 3:
        return m.ravel()
    xs, ys = [q[0] for q in poly], [q[1] for q in poly]
    cx = np.arange(w) + 0.5
    for py in range(h):
        cy = py + 0.5
        cr = []
        for k in range(len(poly)):
            k1 = (k + 1) % len(poly)
            if (ys[k] > cy) != (ys[k1] > cy):
                cr.append(xs[k] + (cy - ys[k]) * (xs[k1] - xs[k]) / (ys[k1] - ys[k]))
        if cr:
            m[py] = (cx[:, None] < np.array(cr)[None]).sum(1) % 2 == 1
    return m.ravel()


def mask_iou(m1, m2, eps=1e-7):
    inter = (m1.astype(float) @ m2.astype(float).T).clip(0)
    union = m1.sum(1)[:, None] + m2.sum(1)[None] - inter
    return inter / (union + eps)


def match_predictions(pred_classes, true_classes, iou):
    correct = np.zeros((pred_classes.shape[0], 10)).astype(bool)
    correct_class = true_classes[:, None] == pred_classes
    iou = iou * correct_class
    for i, threshold in enumerate(iouv()):
        matches = np.array(np.nonzero(iou >= threshold)).T
        if matches.shape[0]:
            if matches.shape[0] > 1:
                matches = matches[iou[matches[:, 0], matches[:, 1]].argsort(kind="stable")[::-1]]
                matches = matches[np.unique(matches[:, 1], return_index=True)[1]]
                matches = matches[np.unique(matches[:, 0], return_index=True)[1]]
            correct[matches[:, 1].astype(int), i] = True
    return correct


class ConfusionMatrix:
    def __init__(self, nc, conf=0.25, iou_thres=0.45):
        self.matrix, self.nc, self.conf, self.iou_thres = np.zeros((nc + 1, nc + 1)), nc, conf, iou_thres

    def process_batch(self, dconf, dcls, gt_cls, iou_full):
        keep = dconf > self.conf
        if gt_cls.shape[0] == 0:
            for dc in dcls[keep]:
                self.add(dc, self.nc)
            return
        dcls = dcls[keep]
        iou = iou_full[:, keep]
        x = np.nonzero(iou > self.iou_thres)
        if x[0].shape[0]:
            matches = np.concatenate((np.stack(x, 1), iou[x[0], x[1]][:, None]), 1)
            if x[0].shape[0] > 1:
                matches = matches[matches[:, 2].argsort(kind="stable")[::-1]]
                matches = matches[np.unique(matches[:, 1], return_index=True)[1]]
                matches = matches[matches[:, 2].argsort(kind="stable")[::-1]]
                matches = matches[np.unique(matches[:, 0], return_index=True)[1]]
        else:
            matches = np.zeros((0, 3))
        n = matches.shape[0] > 0
        m0, m1, _ = matches.transpose().astype(int)
        for i, gc in enumerate(gt_cls):
            j = m0 == i
            if n and sum(j) == 1:
                self.add(dcls[m1[j]][0], gc)
            else:
                self.matrix[self.nc, gc] += 1
        for i, dc in enumerate(dcls):
            if not any(m1 == i):
                self.add(dc, self.nc)

    def add(self, dc, gc):
        # a predicted class beyond the names has no row (Ultralytics would
        # raise an IndexError): it is left out
        if 0 <= dc < self.nc:
            self.matrix[dc, gc] += 1


def smooth(y, f=0.05):
    nf = round(len(y) * f * 2) // 2 + 1
    p = np.ones(nf // 2)
    yp = np.concatenate((p * y[0], y, p * y[-1]), 0)
    return np.convolve(yp, np.ones(nf) / nf, mode="valid")


def compute_ap(recall, precision):
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([1.0], precision, [0.0]))
    mpre = np.flip(np.maximum.accumulate(np.flip(mpre)))
    x = np.linspace(0, 1, 101)
    return np.trapz(np.interp(x, mrec, mpre), x), mrec, mpre


def ap_per_class(tp, conf, pred_cls, target_cls, eps=1e-16):
    i = np.argsort(-conf, kind="stable")
    tp, conf, pred_cls = tp[i], conf[i], pred_cls[i]
    unique_classes, nt = np.unique(target_cls, return_counts=True)
    nc = unique_classes.shape[0]
    x = np.linspace(0, 1, 1000)
    ap, p_curve, r_curve = np.zeros((nc, tp.shape[1])), np.zeros((nc, 1000)), np.zeros((nc, 1000))
    prec_values = np.zeros((nc, 1000))  # Ultralytics appends only classes with predictions; zeros here
    for ci, c in enumerate(unique_classes):
        i = pred_cls == c
        n_l, n_p = nt[ci], i.sum()
        if n_p == 0 or n_l == 0:
            continue
        fpc = (1 - tp[i]).cumsum(0)
        tpc = tp[i].cumsum(0)
        recall = tpc / (n_l + eps)
        r_curve[ci] = np.interp(-x, -conf[i], recall[:, 0], left=0)
        precision = tpc / (tpc + fpc)
        p_curve[ci] = np.interp(-x, -conf[i], precision[:, 0], left=1)
        for j in range(tp.shape[1]):
            ap[ci, j], mrec, mpre = compute_ap(recall[:, j], precision[:, j])
            if j == 0:
                prec_values[ci] = np.interp(x, mrec, mpre)  # the PR curve at mAP@0.5
    f1_curve = 2 * p_curve * r_curve / (p_curve + r_curve + eps)
    i = smooth(f1_curve.mean(0), 0.1).argmax() if nc else 0
    every = slice(0, 1000, 37)  # valcalc prints these points
    curves = {k: v[:, every].ravel().tolist() for k, v in
              (("pr", prec_values), ("p", p_curve), ("r", r_curve), ("f1", f1_curve))}
    return p_curve[:, i], r_curve[:, i], ap, unique_classes.astype(int), nt, curves


def metric_block(p, r, ap):
    if not len(ap):
        return dict(precision=0.0, recall=0.0, map50=0.0, map75=0.0, map50_95=0.0, fitness=0.0)
    m = dict(precision=p.mean(), recall=r.mean(), map50=ap[:, 0].mean(), map75=ap[:, 5].mean(),
             map50_95=ap.mean())
    m["fitness"] = 0.1 * m["map50"] + 0.9 * m["map50_95"]
    return m


def list_images(root, split_value):
    out = []
    for s in split_value if isinstance(split_value, list) else [split_value]:
        p = os.path.join(root, s)
        if os.path.isdir(p):
            for dp, _, files in os.walk(p):
                out += [os.path.join(dp, f) for f in files if f.rsplit(".", 1)[-1].lower() in IMG_EXT]
        else:
            d = os.path.dirname(p)
            with open(p) as f:
                out += [os.path.join(d, x.strip()) for x in f if x.strip()]
    return sorted(out)


def label_path(img):
    a, b = os.sep + "images" + os.sep, os.sep + "labels" + os.sep
    return b.join(img.rsplit(a, 1)).rsplit(".", 1)[0] + ".txt"


def evaluate(data_yaml, split, task, preds):
    """The metrics of preds (valcalc's PREDS.json, loaded) against the dataset."""
    if task == "classify":
        return evaluate_classify(data_yaml, split, preds)
    with open(data_yaml) as f:
        cfg = yaml.safe_load(f)
    root = os.path.join(os.path.dirname(data_yaml), cfg.get("path") or "")
    names = cfg["names"]
    nc = len(names) if isinstance(names, list) else max(names) + 1
    kpt = cfg.get("kpt_shape")
    cm = ConfusionMatrix(nc)
    stats = {k: [] for k in ("tp", "tp2", "conf", "pred_cls", "target_cls", "target_img")}
    n_images = 0
    for img in list_images(root, cfg[split]):
        a = preds.get(os.path.basename(img))
        if a is None:
            continue
        n_images += 1
        h, w = a["shape"]
        lab = []
        if os.path.exists(label_path(img)):
            with open(label_path(img)) as f:
                lab = [list(map(float, ln.split())) for ln in f]
        lab = [ln for ln in lab if ln]
        cls = np.array([int(ln[0]) for ln in lab], int)
        pr = sorted(a["preds"], key=lambda q: -np.float32(q["conf"]))  # stable
        pcls = np.array([q["cls"] for q in pr], int)
        pconf = np.array([q["conf"] for q in pr], np.float32)
        gt, other = labels_geometry(task, lab, w, h, kpt), None
        if task == "obb":
            po = np.array([min_area_rect(np.array(q["obb"]).reshape(4, 2)) for q in pr]).reshape(-1, 5)
            iou = batch_probiou(gt["obb"], po) if len(lab) and len(pr) else np.zeros((len(lab), len(pr)))
        else:
            pb = np.array([q["box"] for q in pr], float).reshape(-1, 4)
            iou = box_iou(gt["box"], pb)
        if task == "segment" and len(lab) and len(pr):
            other = mask_iou(np.stack([raster(g, w, h) for g in gt["poly"]]),
                             np.stack([raster(q["poly"], w, h) for q in pr]))
        if task == "pose" and len(lab) and len(pr):
            n = kpt[0]
            sigma = OKS_SIGMA if n == 17 else np.ones(n) / n
            pk = np.zeros((len(pr), n, 2))
            for d, q in enumerate(pr):
                pk[d, :len(q["kpts"])] = np.array(q["kpts"])[:n]
            missing = np.array([[k >= len(q["kpts"]) for k in range(n)] for q in pr])
            pk[missing] = 1e300  # a point the answer lacks counts as missed
            bw = gt["box"][:, 2] - gt["box"][:, 0]
            bh = gt["box"][:, 3] - gt["box"][:, 1]
            other = kpt_iou(gt["kpts"], pk, bw * bh * 0.53, sigma)
        tp = match_predictions(pcls, cls, iou) if len(lab) else np.zeros((len(pr), 10), bool)
        tp2 = match_predictions(pcls, cls, other) if other is not None and len(lab) else np.zeros((len(pr), 10), bool)
        cm.process_batch(pconf, pcls, cls, iou if len(pr) and len(lab) else np.zeros((len(lab), len(pr))))
        stats["tp"].append(tp)
        stats["tp2"].append(tp2)
        stats["conf"].append(pconf)
        stats["pred_cls"].append(pcls)
        stats["target_cls"].append(cls)
        stats["target_img"].append(np.unique(cls))
    st = {k: np.concatenate(v, 0) if v else np.zeros(0) for k, v in stats.items()}
    p, r, ap, ucls, nt, cv = ap_per_class(st["tp"].reshape(-1, 10), st["conf"], st["pred_cls"], st["target_cls"])
    out = {"images": n_images, "instances": int(len(st["target_cls"])), "box": metric_block(p, r, ap)}
    out["curves"] = {"box": cv}
    blocks = [(p, r, ap)]
    if task in ("segment", "pose"):
        p2, r2, ap2, _, _, cv2 = ap_per_class(st["tp2"].reshape(-1, 10), st["conf"], st["pred_cls"], st["target_cls"])
        out["curves"]["other"] = cv2
        out["other"] = metric_block(p2, r2, ap2)
        blocks.append((p2, r2, ap2))
    out["classes"] = []
    for ci, c in enumerate(ucls):
        e = {"class": int(c), "images": int((st["target_img"] == c).sum()), "instances": int(nt[ci])}
        for name, (bp, br, bap) in zip(("box", "other"), blocks):
            e[name] = [bp[ci], br[ci], bap[ci, 0], bap[ci].mean()]
        out["classes"].append(e)
    out["confusion"] = cm.matrix.ravel().tolist()
    return out


def labels_geometry(task, lab, w, h, kpt):
    box = np.zeros((len(lab), 4))
    g = {"box": box, "poly": [], "obb": np.zeros((len(lab), 5)), "kpts": None}
    if task == "pose":
        n, dim = kpt
        g["kpts"] = np.zeros((len(lab), n, 3))
    for i, ln in enumerate(lab):
        v = ln[1:]
        if task == "obb":
            g["obb"][i] = min_area_rect(np.array(v).reshape(4, 2) * [w, h])
            continue
        if task == "segment" or (task == "detect" and len(v) > 4):
            poly = [(v[2 * k] * w, v[2 * k + 1] * h) for k in range(len(v) // 2)]
            g["poly"].append(poly)
            box[i] = [min(q[0] for q in poly), min(q[1] for q in poly),
                      max(q[0] for q in poly), max(q[1] for q in poly)]
            continue
        xc, yc, bw, bh = v[:4]
        box[i] = [(xc - bw / 2) * w, (yc - bh / 2) * h, (xc + bw / 2) * w, (yc + bh / 2) * h]
        if task == "pose":
            n, dim = kpt
            pts = np.array(v[4:]).reshape(n, dim)
            g["kpts"][i, :, 0] = pts[:, 0] * w
            g["kpts"][i, :, 1] = pts[:, 1] * h
            g["kpts"][i, :, 2] = pts[:, 2] if dim == 3 else 1
    return g


def evaluate_classify(folder, split, preds):
    d = os.path.join(folder, split)
    names = sorted(x for x in os.listdir(d) if not x.startswith(".") and os.path.isdir(os.path.join(d, x)))
    ok1 = ok5 = n = 0
    no5 = False
    counts = {}
    cm = np.zeros((len(names), len(names)))
    for c, name in enumerate(names):
        for f in sorted(os.listdir(os.path.join(d, name))):
            a = preds.get(f)
            if a is None:
                continue
            n += 1
            counts[c] = counts.get(c, 0) + 1
            top = a["top"]
            no5 |= len(top) < 5
            ok1 += bool(top) and top[0] == c
            ok5 += c in top[:5]
            if top and 0 <= top[0] < len(names):
                cm[top[0], c] += 1
    return {"images": n, "instances": n, "top1": ok1 / n if n else 0.0,
            "top5": None if no5 else (ok5 / n if n else 0.0),
            "classes": [{"class": c, "images": k, "instances": k} for c, k in sorted(counts.items())],
            "confusion": cm.ravel().tolist()}
