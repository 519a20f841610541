"""Word lists behind PERSON detection: family names, words that end a name, non-names.

The lists are deliberately conservative: a family name character that is far more often the start
of an ordinary word (和, 都, 国, 海 ...) is left out, because a missed rare name costs less than
masking "我是海归" as a person.
"""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


SINGLE_FAMILY_NAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵"
    "苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩佘麻苑迟邝封匡鞠惠荆冀郁胥班储栗燕楚鄢劳谌"
    "奚皮粟冼蔺闻厉伊仝郜阚帅屠朴廉禹祖芮邸雍辜裘邰赫杭嵇"
)

COMPOUND_FAMILY_NAMES = frozenset(
    _words(
        "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 独孤 南宫"
        " 西门 轩辕 呼延 澹台 公冶 太史 申屠 万俟 闻人 百里 钟离 赫连 濮阳 淳于 单于 司空 第五"
        " 拓跋 完颜 东郭 左丘 梁丘 宗政 乐正 漆雕 子车 颛孙 巫马 公西 公良 段干 仲孙"
    )
)

# Words that end a Chinese name when they follow the family name: "我叫张三今年20岁" is 张三.
CN_NAME_ENDINGS = _words(
    "今年 今天 明天 昨天 后天 现在 目前 已经 一直 电话 手机 邮箱 地址 先生 女士 小姐 同学"
    " 老师 师傅 经理 总监 来自 住在 家住 身份证 的 是 在 我 你 他 她 它 和 跟 与 及 了 吗 呢"
    " 吧 啊 呀 哦 也 都 就 请 您 们 说 叫 住 等 还 又 很 给 把 被 让 啦 哈 嗯 喔 这 那"
)

# Ordinary words and places that start with a family-name character: "我是王者荣耀玩家",
# "我是高中生", "我是沈阳的" are not names.
CN_NOT_NAMES = _words(
    "王者 高中 高一 高二 高三 高级 高手 高管 程序 金牌 金融 黄金 黄牛 江苏 江西 江南 安徽"
    " 成都 成年 马上 常客 白领 司机 房东 房主 单身 全职 路人 周末 文员 包工 张家口 张家界 方便"
    " 广东 广州 广西 宁夏 宁波 沈阳 杭州 武汉 苏州 郑州 温州 石家庄 常州 徐州 许昌 唐山 秦皇岛"
    " 邢台 包头 吉林 齐齐哈尔 湖州 黄山 安庆 宿州 赣州 商丘 信阳 荆州 岳阳 柳州 桂林 乐山"
    " 遵义 西安 兰州 银川 华为 管理 党员 游客 游戏 曾经 车主 车迷 应届 师兄 师姐 师妹 师弟"
    " 新来 温柔 夏天 冬天 春天 秋天 钱包 谢谢 余额 付款 关于 关注 项目 卫生 司法 连续 简单"
    " 古代 吉他 米粉 宗教 全国 全家 应该 边境 姬友 师范 商家 商户 沙雕 荣幸 胡说 何必 林业"
    " 罗马 宋朝 唐朝 肖像 田园 董事 于是 余生 魏晋 丁克 任何 卢浮 姜汤 钟点 陆地 汪汪"
    " 范围 石头 夏季 付费 方面 方案 白天 邹城 熊猫 秦朝 邱园 江湖 段子 侯门 龙虾 史上 陶瓷"
    " 贺卡 顾客 万能 钱多 严格 戴眼 向往 汤圆 常年 康复 文科 牛人 安全 齐心 庞大 颜值"
    " 庄家 章鱼 申请 欧洲 关心 兰花 焦虑 左边 柳树 甘肃 包子 尚未 符合 舒服 纪律 梅花 童年"
    " 毕业 单位 季节 成人 苗条 谷歌 盛夏 曲奇 蓝领 蓝色 路过 游泳 管家 华人 华侨 房客"
    " 屈臣 艾滋 阳光 农民 司令 古典 连锁 麦当 景区 党支 宫廷 费城 卫星 米其 宗师 桂花"
    " 全能 应用 边缘 师父 商人 荣誉 桑拿 郎中 仲裁 惠州 荆棘 燕京 楚雄 闻名 伊朗 帅哥 屠夫"
    " 朴实 祖国"
)

# Capitalised words after "I'm" / "My name is" that are not names (or end the name before them).
EN_NOT_NAMES = frozenset(
    _words(
        "Chinese My A An The In At On From To Of For With And But Or So Not Just Very Really"
        " Still Also Here There Back Home Fine Good Great Okay Ok OK Sorry Sure Glad Happy Ready"
        " Done Busy Tired Hungry Online New Your His Her Our Their This That Going Looking Trying"
        " Calling Writing Interested Thank Thanks Hi Hello Hey Yes No Please American British"
        " English French German Japanese Korean Canadian Australian Indian Italian Spanish Russian"
        " Mexican Asian European African China America Canada Japan Korea Germany France Britain"
        " England Australia India Italy Spain Russia Mexico Europe Asia Africa Beijing Shanghai"
        " Guangzhou Shenzhen Hangzhou Chengdu Wuhan Nanjing Tianjin Chongqing Xian Suzhou Hong"
        " Kong Taiwan Macau London Paris Tokyo Seoul Sydney Toronto Berlin York California Texas"
        " Boston Chicago Seattle Student Teacher Doctor Engineer Manager Customer Admin Monday"
        " Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June"
        " July August September October November December Street Road Avenue Lane"
    )
)
